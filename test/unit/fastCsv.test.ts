import { Readable } from 'node:stream';
import { CsvError } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { CsvFormatError, csvParserOptions, openCsv } from '../../src/io/csv';
import { openCsvRange } from '../../src/io/csvSplit';
import { csvParseRange, FastCsvParser, fastCsvRows } from '../../src/io/fastCsv';

const SOURCE = 's3://b/f.csv';

/** mulberry32: a small seeded PRNG, so every failure is reproducible from its seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p: number) => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
  };
}
type Rng = ReturnType<typeof prng>;

const WORDS = ['alpha', 'beta', 'x', '42', 'hello world', ' padded ', 'é', 'naïve café', '漢字テスト', '😀 emoji', 'Ω≈ç', 'tab\there', '\ufeffbom'];
type Rd = '\n' | '\r\n' | '\r';

/** A random CSV csv-parse accepts (mostly: `odd` puts data line breaks that may confuse delimiter discovery). */
function genCsv(r: Rng, odd: boolean): Buffer {
  const rd: Rd = r.pick(['\n', '\n', '\r\n', '\r\n', '\r'] as const);
  const ncols = r.int(1, 5);
  const nrows = r.int(0, 30);
  const field = (): string => {
    let v: string;
    switch (r.int(0, 10)) {
      case 0:
        v = '';
        break;
      case 1:
        v = `${r.pick(WORDS)}, ${r.pick(WORDS)}`;
        break;
      case 2:
        v = `say "${r.pick(WORDS)}"${r.chance(0.3) ? '"' : ''}`;
        break;
      case 3:
        v = `${r.pick(WORDS)}\n${r.pick(WORDS)}`;
        break;
      case 4:
        v = `${r.pick(WORDS)}\r\n${r.chance(0.5) ? '\r\n' : ''}${r.pick(WORDS)}`;
        break;
      case 5:
        v = `${r.pick(WORDS)}\r${r.pick(WORDS)}`;
        break;
      case 6: {
        const parts: string[] = [];
        for (let i = r.int(5, 40); i > 0; i--) parts.push(r.pick([...WORDS, '\n', '""', ',', '\r\n', '"']));
        v = parts.join(r.pick([' ', '']));
        break;
      }
      default:
        v = r.pick(WORDS);
    }
    const mustQuote = /[",\r\n]/.test(v) || (v === '' && ncols === 1);
    if (mustQuote || r.chance(0.2)) return `"${v.replace(/"/g, '""')}"`;
    if (odd && r.chance(0.2)) {
      // Unquoted break bytes that are not the record delimiter: plain field data for csv-parse.
      const data = rd === '\n' ? '\r' : rd === '\r' ? '\n' : r.pick(['\n', '\r']);
      return `${v}${data}${r.pick(WORDS)}`;
    }
    return v;
  };
  const lines: string[] = [];
  let text = r.chance(0.3) ? '\ufeff' : '';
  if (r.chance(0.1)) text += rd; // an empty line before the header
  lines.push(Array.from({ length: ncols }, (_, i) => (r.chance(0.2) ? `"col ${i}"` : `col${i}`)).join(','));
  for (let i = 0; i < nrows; i++) {
    lines.push(Array.from({ length: ncols }, field).join(','));
    while (r.chance(0.15)) lines.push('');
  }
  text += lines.join(rd);
  if (r.chance(0.7)) text += rd;
  if (r.chance(0.1)) text += rd + rd;
  let bytes = Buffer.from(text, 'utf8');
  if (r.chance(0.1)) {
    // Invalid UTF-8 in an unquoted spot: an input error (csv-parse would decode it with replacement characters).
    const at = bytes.lastIndexOf(0x2c);
    if (at > 0) bytes = Buffer.concat([bytes.subarray(0, at + 1), Buffer.from(r.pick([[0xc3], [0xe2, 0x82], [0xff], [0xf0, 0x9f, 0x98]])), bytes.subarray(at + 1)]);
  }
  return bytes;
}

function chunksOf(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

type Outcome = { rows: string[][]; error?: string };

/**
 * The reference: csv-parse on the whole file; rows are every record it produced (before its error, if
 * any), the error as openCsv words it.
 */
function reference(bytes: Buffer): Outcome {
  const rows: string[][] = [];
  try {
    parseSync(bytes, {
      ...csvParserOptions,
      on_record: (r: string[]) => {
        rows.push(r);
        return r;
      },
    });
    return { rows };
  } catch (err) {
    expect((err as CsvError).code).toMatch(/^[A-Z_]+$/);
    const e = err as CsvError & { lines?: number };
    return { rows, error: `${SOURCE}: malformed CSV${e.lines ? ` near line ${e.lines}` : ''}: ${e.message}` };
  }
}

/** The fast parser alone (no fallback): its records, and whether it gave up. */
function fast(bytes: Buffer, chunk: number): { rows: string[][]; fallback: string | undefined } {
  const p = new FastCsvParser({ bom: true });
  const rows: string[][] = [];
  for (const c of chunksOf(bytes, chunk)) p.push(c, rows);
  p.end(rows);
  return { rows, fallback: p.fallback?.reason };
}

const isUtf8 = (bytes: Buffer) => Buffer.from(bytes.toString('utf8')).equals(bytes);

/** openCsv: header + rows, or the rows before the error and its message. */
async function viaOpenCsv(bytes: Buffer, chunk: number): Promise<Outcome> {
  const rows: string[][] = [];
  try {
    const { rows: it } = await openCsv(Readable.from(chunksOf(bytes, chunk)), SOURCE);
    rows.push(['<header>']);
    for await (const r of it) rows.push(r);
    return { rows };
  } catch (err) {
    expect(err).toBeInstanceOf(CsvFormatError);
    return { rows, error: (err as Error).message };
  }
}

const CHUNKS = [1, 7, 64 * 1024];

describe('FastCsvParser', () => {
  it('gives exactly the records of csv-parse, without falling back, for random valid CSVs in 1, 7 and 64 KiB chunks', () => {
    let checked = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const r = prng(seed);
      const bytes = genCsv(r, seed % 4 === 0);
      let want: string[][];
      try {
        want = parseSync(bytes, { ...csvParserOptions }) as string[][];
      } catch {
        continue; // odd breaks can make a file csv-parse rejects: covered below
      }
      checked++;
      for (const chunk of [...CHUNKS, r.int(2, 300)]) {
        try {
          if (!isUtf8(bytes)) {
            expect(() => fast(bytes, chunk)).toThrow(/^CSV input: invalid UTF-8 at line \d+, byte offset \d+: 0x/);
            continue;
          }
          const got = fast(bytes, chunk);
          expect(got.fallback).toBeUndefined();
          expect(got.rows).toEqual(want);
        } catch (err) {
          throw new Error(`seed ${seed}, chunk ${chunk}: ${(err as Error).message}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(350);
  });

  it('handles the edge cases csvSplit documents', () => {
    const cases = [
      '',
      '\ufeff',
      'a',
      'a,b',
      'a,b\n',
      '\n\na,b\n\n\n',
      '"a\nb",c\r\n',
      'a,b\n1,2\r\n3,4\n', // \r before \n is data in a \n file
      'a,b\r\n1,2\n3\r\n5,6\r\n', // bare \n is data in a \r\n file
      'a,b\r1,"x\ry"\r\r\n2,3\r4,5', // bare \r file; \r\n: the \n starts a record
      'a,b\r',
      'a\n""\n\nb\n',
      'a,b\n,\n',
      'a,b\n1,',
      'a,b\n"1",""',
      'a\n"x""y"""\n""""\n',
      'a,b\n1,"2"\n',
      '\ufeff"a",b\n1,2',
      'a\n\ufeffx\n',
      '\r\n\r\na\r\nb\r\n',
      '\r\ra\r\rb',
      '"a\r\nb"\r\n1\r\n',
      '"a\r"\r1\r',
    ];
    for (const text of cases) {
      const bytes = Buffer.from(text);
      const want = parseSync(bytes, { ...csvParserOptions }) as string[][];
      for (const chunk of [1, 2, 3, 7, 64]) {
        const got = fast(bytes, chunk);
        expect({ text, chunk, ...got }).toEqual({ text, chunk, rows: want, fallback: undefined });
      }
    }
  });

  it('falls back (and yields nothing of the bad record) on what it does not handle', () => {
    const cases: Array<[string, RegExp, number]> = [
      ['a,b\n1,2\n3,x"y\n5,6\n', /quote inside an unquoted field/, 2],
      ['a,b\n1,2\n3,"x"y\n', /text after a closing quote/, 2],
      ['a,b\n1,2\n3,"xy\n', /unclosed quote/, 2],
      ['a,b\n1,2\n3\n', /another number of fields/, 2],
      ['a\n"x"\r\n', /text after a closing quote/, 1],
      ['\xff\xfea', /UTF-16LE/, 0],
    ];
    for (const [text, reason, rows] of cases) {
      for (const chunk of [1, 5, 64]) {
        const got = fast(Buffer.from(text, text.startsWith('\xff') ? 'latin1' : 'utf8'), chunk);
        expect(got.fallback).toMatch(reason);
        expect(got.rows.length).toBe(rows);
      }
    }
  });
});

describe('openCsv with the fast parser', () => {
  it('reads random CSVs, valid or not, exactly as csv-parse does: same rows, same error text and line', async () => {
    const kinds = ['extra field', 'missing field', 'unclosed quote', 'quote inside a field', 'text after a closing quote', 'unclosed at end', 'none'] as const;
    let errors = 0;
    for (let seed = 5000; seed < 5250; seed++) {
      const r = prng(seed);
      let bytes = genCsv(r, seed % 3 === 0);
      const kind = kinds[seed % kinds.length];
      // Damage the file at a random record boundary (anywhere: the header too).
      const breaks: number[] = [];
      for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) breaks.push(i);
      const at = breaks.length ? r.pick(breaks) : bytes.length;
      const ins = (text: string) => (bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(text), bytes.subarray(at)]));
      if (kind === 'extra field') ins(',extra');
      else if (kind === 'missing field') ins('\nlonely');
      else if (kind === 'unclosed quote') ins(',"never closed');
      else if (kind === 'quote inside a field') ins(',ab"c');
      else if (kind === 'text after a closing quote') ins(',"ab"c');
      else if (kind === 'unclosed at end') bytes = Buffer.concat([bytes, Buffer.from('\n"open')]);
      const want = reference(bytes);
      if (want.error) errors++;
      const wantOpen: Outcome = want.rows.length ? { ...want, rows: [['<header>'], ...want.rows.slice(1)] } : want;
      if (!want.error && want.rows.length === 0) continue; // empty file: openCsv's own message
      if (want.rows.length && (new Set(want.rows[0].map((c) => c.trim())).size !== want.rows[0].length || want.rows[0].some((c) => !c.trim()))) continue;
      for (const chunk of [...CHUNKS, r.int(2, 200)]) {
        const got = await viaOpenCsv(bytes, chunk);
        try {
          if (!isUtf8(bytes)) {
            // Invalid UTF-8 fails the read; a CSV error before it in the same chunk may be found first.
            expect(got.error).toMatch(/^s3:\/\/b\/f\.csv: invalid UTF-8 at line \d+, byte offset \d+: 0x|^s3:\/\/b\/f\.csv: malformed CSV/);
            if (!want.error) expect(got.error).toMatch(/invalid UTF-8/);
          } else if (want.error) {
            // Same message; rows before it: a prefix of csv-parse's (a stream that fails drops rows it buffered).
            expect(got.error).toBe(want.error);
            expect(got.rows).toEqual(wantOpen.rows.slice(0, got.rows.length));
          } else {
            expect(got).toEqual(wantOpen);
          }
        } catch (err) {
          throw new Error(`seed ${seed} (${kind}), chunk ${chunk}: ${(err as Error).message}`);
        }
      }
    }
    expect(errors).toBeGreaterThan(100);
  });

  it('keeps the messages of the existing examples', async () => {
    const read = (text: string | Buffer) => viaOpenCsv(Buffer.isBuffer(text) ? text : Buffer.from(text), 3);
    expect(await read('id,text\n1,ok\n2,too,many\n')).toEqual({
      rows: [['<header>'], ['1', 'ok']],
      error: `${SOURCE}: malformed CSV near line 3: Invalid Record Length: expect 2, got 3 on line 3`,
    });
    // csv-parse counts the \r and the \n inside the quotes: line 5.
    expect((await read('a,b\n1,"x\r\ny"\n2,"q"z\n')).error).toBe(
      `${SOURCE}: malformed CSV near line 5: Invalid Closing Quote: got "z" at line 5 instead of delimiter, record delimiter, trimable character (if activated) or comment`,
    );
    // Quote Not Closed names the line before the last line break is counted.
    expect((await read('a,b\r\n1,"x\r\ny"\r\n\r\n2,"open\r\n')).error).toBe(
      `${SOURCE}: malformed CSV near line 7: Quote Not Closed: the parsing is finished with an opening quote at line 7`,
    );
    // The header's own problems: csv-parse re-reads the whole file.
    expect((await read('\ufeffa,b"c\n1,2\n')).error).toMatch(/^s3:\/\/b\/f\.csv: malformed CSV near line 1: Invalid Opening Quote/);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\n1,2\n', 'utf16le')]);
    const want = reference(utf16);
    expect(await read(utf16)).toEqual({ ...want, rows: [['<header>'], ...want.rows.slice(1)] });
  });

  it('passes a failing download through as is', async () => {
    const boom = new Error('socket hang up');
    let n = 0;
    const stream = new Readable({
      read() {
        if (n++ === 0) this.push(Buffer.from('a,b\n1,2\n'));
        else this.destroy(boom);
      },
    });
    const { rows } = await openCsv(stream, SOURCE);
    const run = async () => {
      for await (const _ of rows) void _;
    };
    await expect(run()).rejects.toBe(boom);
  });
});

describe('fastCsvRows', () => {
  it('hands a record over maxRecordBytes to csv-parse, which reads the rest', async () => {
    const big = 'y'.repeat(5000);
    const text = `1,a\n2,"${big}\n${big}"\n3,c\n4,d,extra\n`;
    for (const chunk of [7, 1000, 64 * 1024]) {
      // (In one 64 KiB chunk the big record is never carried: the fast parser reads it and falls back on row 4.)
      const rows: string[][] = [];
      let at: { line: number; records: number; reason: string } | undefined;
      const it = fastCsvRows(Readable.from(chunksOf(Buffer.from(text), chunk)), { columns: 2, recordDelimiter: '\n', firstLine: 10, maxRecordBytes: 4096 }, (rest, a) => {
        at = a;
        return csvParseRange(rest, 2, SOURCE, { firstLine: a.line, recordDelimiter: a.recordDelimiter });
      });
      await expect(
        (async () => {
          for await (const row of it) rows.push(row);
        })(),
      ).rejects.toThrow(`${SOURCE}: malformed CSV near line 14: Invalid Record Length: expect 2, got 3 on line 14`);
      expect(at).toMatchObject(
        chunk < 4096
          ? { line: 11, records: 1, reason: expect.stringMatching(/over 4096 bytes/) }
          : { line: 14, records: 3, reason: expect.stringMatching(/another number of fields/) },
      );
      expect(rows).toEqual([['1', 'a'], ['2', `${big}\n${big}`], ['3', 'c']]);
    }
  });

  it('openCsvRange: falls back mid-part with the lines of the whole file', async () => {
    const part = Buffer.from('1,2\n"a\nb",c\n\n5,"x"y\n');
    for (const chunk of [1, 7, 64]) {
      const rows: string[][] = [];
      await expect(
        (async () => {
          for await (const row of openCsvRange(Readable.from(chunksOf(part, chunk)), ['a', 'b'], SOURCE, { firstLine: 20, recordDelimiter: '\n' })) rows.push(row);
        })(),
      ).rejects.toThrow(
        `${SOURCE}: malformed CSV near line 24: Invalid Closing Quote: got "y" at line 24 instead of delimiter, record delimiter, trimable character (if activated) or comment`,
      );
      expect(rows).toEqual([['1', '2'], ['a\nb', 'c']]);
    }
  });
});
