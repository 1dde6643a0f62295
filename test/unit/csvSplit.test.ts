import { Readable } from 'node:stream';
import { parse as parseSync } from 'csv-parse/sync';
import { CsvFormatError, csvParserOptions, openCsv } from '../../src/io/csv';
import { CsvBoundaryScanner, CsvRecordDelimiter, CsvScanResult, openCsvRange, scanCsvBoundaries } from '../../src/io/csvSplit';

const SOURCE = 's3://b/big.csv';

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
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p: number) => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
  };
}
type Rng = ReturnType<typeof prng>;

const WORDS = ['alpha', 'beta', 'x', '42', 'hello world', ' padded ', 'é', 'naïve café', '漢字テスト', '😀 emoji', 'Ω≈ç', 'tab\there'];

interface GenOptions {
  /** Also put unquoted line-break bytes csv-parse treats as data (`\r` in `\n` files, `\n` in `\r\n` files). */
  oddBreaks: boolean;
}

/** A random CSV csv-parse accepts: quoted fields with commas, `""`, `\n`, `\r\n`, multi-byte text, empty lines. */
function genCsv(r: Rng, opts: GenOptions): { bytes: Buffer; rd: '\n' | '\r\n'; columns: number } {
  const rd: '\n' | '\r\n' = r.chance(0.6) ? '\n' : '\r\n';
  const ncols = r.int(1, 5);
  const nrows = r.int(0, 25);
  const field = (): string => {
    let v: string;
    switch (r.int(0, 9)) {
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
        for (let i = r.int(5, 40); i > 0; i--) parts.push(r.pick([...WORDS, '\n', '""', ',', '\r\n']));
        v = parts.join(' ');
        break;
      }
      default:
        v = r.pick(WORDS);
    }
    const mustQuote = /[",\r\n]/.test(v) || (v === '' && ncols === 1);
    if (mustQuote || r.chance(0.2)) return `"${v.replace(/"/g, '""')}"`;
    if (opts.oddBreaks && r.chance(0.15)) {
      // Unquoted break bytes that are not the record delimiter: plain field data for csv-parse.
      return rd === '\n' ? `${v}\r${r.pick(WORDS)}` : `${v}\n${r.pick(WORDS)}`;
    }
    return v;
  };
  const lines: string[] = [];
  let text = r.chance(0.3) ? '\ufeff' : '';
  if (r.chance(0.1)) text += rd; // an empty line before the header
  const header = Array.from({ length: ncols }, (_, i) => (r.chance(0.2) ? `"col ${i}"` : `col${i}`)).join(',');
  lines.push(header);
  for (let i = 0; i < nrows; i++) {
    let row = Array.from({ length: ncols }, field).join(',');
    if (opts.oddBreaks && rd === '\n' && r.chance(0.1) && !row.endsWith('"')) row += '\r'; // a `\r\n` row in a `\n` file
    lines.push(row);
    while (r.chance(0.15)) lines.push(''); // empty lines between records
  }
  text += lines.join(rd);
  if (r.chance(0.7)) text += rd;
  if (r.chance(0.1)) text += rd + rd;
  return { bytes: Buffer.from(text, 'utf8'), rd, columns: ncols };
}

interface Oracle {
  rows: string[][]; // data rows
  ends: number[]; // end offset (after the delimiter) of every record, header first
  lines: number[]; // csv-parse's info.lines when each record was emitted
}

/** What csv-parse itself makes of the whole file, with the app's options. */
function oracle(bytes: Buffer): Oracle {
  const recs = parseSync(bytes, { ...csvParserOptions, info: true }) as unknown as Array<{ record: string[]; info: { bytes: number; lines: number } }>;
  return { rows: recs.slice(1).map((x) => x.record), ends: recs.map((x) => x.info.bytes), lines: recs.map((x) => x.info.lines) };
}

function chunksOf(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

function scanBytes(bytes: Buffer, targetPartBytes: number, chunk: number): CsvScanResult {
  const scanner = new CsvBoundaryScanner({ targetPartBytes });
  for (const c of chunksOf(bytes, chunk)) scanner.push(c);
  return scanner.finish();
}

/** openCsv over the whole file: the rows, or the error message. */
async function wholeFile(bytes: Buffer, chunk = 64 * 1024): Promise<{ columns: string[]; rows: string[][] } | { error: string }> {
  try {
    const { columns, rows } = await openCsv(Readable.from(chunksOf(bytes, chunk)), SOURCE);
    const out: string[][] = [];
    for await (const row of rows) out.push(row);
    return { columns, rows: out };
  } catch (err) {
    expect(err).toBeInstanceOf(CsvFormatError);
    return { error: (err as Error).message };
  }
}

async function readPart(
  bytes: Buffer,
  part: { startByte: number; endByte: number; firstLine: number; rows: number },
  columns: string[],
  rd: CsvRecordDelimiter | undefined,
  chunk: number,
): Promise<string[][]> {
  const stream = Readable.from(chunksOf(bytes.subarray(part.startByte, part.endByte), chunk));
  const out: string[][] = [];
  for await (const row of openCsvRange(stream, columns, SOURCE, { firstLine: part.firstLine, expectedRows: part.rows, recordDelimiter: rd })) {
    out.push(row);
  }
  return out;
}

/** (c): the parts tile the data, start at record boundaries, follow the cut rule and carry the right counts and lines. */
function checkLayout(bytes: Buffer, o: Oracle, scan: CsvScanResult, target: number, rd: string) {
  expect(scan.unsplittable).toBeUndefined();
  expect(scan.totalBytes).toBe(bytes.length);
  expect(scan.totalRows).toBe(o.rows.length);
  expect(scan.recordDelimiter).toBe(o.ends[0] === bytes.length && !bytes.includes(rd) ? null : rd);
  expect(scan.headerEndByte).toBe(o.ends[0]);
  const dataEnds = o.ends.slice(1);
  if (scan.headerEndByte === bytes.length) {
    expect(scan.parts).toEqual([]);
    return;
  }
  expect(scan.parts.length).toBeGreaterThan(0);
  let pos = scan.headerEndByte;
  let row = 0;
  scan.parts.forEach((p, i) => {
    expect(p.startByte).toBe(pos);
    expect(p.endByte).toBeGreaterThan(p.startByte);
    expect(p.firstRow).toBe(row);
    // Record boundary: the part starts just after the header's or a row's delimiter.
    const before = p.firstRow; // index in o.ends of the record before the part (0: the header)
    expect(o.ends[before]).toBe(p.startByte);
    expect(p.firstLine).toBe(o.lines[before] + 1);
    expect(p.rows).toBe(dataEnds.filter((e) => e > p.startByte && e <= p.endByte).length);
    if (o.rows.length > 0) expect(p.rows).toBeGreaterThan(0);
    const inside = dataEnds.filter((e) => e > p.startByte && e < p.endByte);
    if (i < scan.parts.length - 1) {
      // The first row end at or after startByte + target.
      expect(dataEnds).toContain(p.endByte);
      expect(p.endByte - p.startByte).toBeGreaterThanOrEqual(target);
      expect(inside.every((e) => e < p.startByte + target)).toBe(true);
    } else {
      const lastRowEnd = dataEnds[dataEnds.length - 1];
      expect(inside.filter((e) => e !== lastRowEnd).every((e) => e < p.startByte + target)).toBe(true);
    }
    pos = p.endByte;
    row += p.rows;
  });
  expect(pos).toBe(bytes.length);
  expect(row).toBe(o.rows.length);
}

/**
 * (b)/(d): reading the parts one after the other gives what openCsv gives for the whole file: the same
 * rows, or the same rows up to the first failing part, whose CsvFormatError is openCsv's, word for word.
 */
async function checkPartsAgainstWhole(bytes: Buffer, scan: CsvScanResult, opts: { rd?: CsvRecordDelimiter; chunk: number }) {
  const whole = await wholeFile(bytes);
  const columns = 'columns' in whole ? whole.columns : (oracleHeader(bytes) ?? ['a']);
  const got: string[][] = [];
  let error: string | undefined;
  for (const part of scan.parts) {
    try {
      got.push(...(await readPart(bytes, part, columns, opts.rd, opts.chunk)));
    } catch (err) {
      expect(err).toBeInstanceOf(CsvFormatError);
      error = (err as Error).message;
      break;
    }
  }
  if ('rows' in whole) {
    expect(error).toBeUndefined();
    expect(got).toEqual(whole.rows);
  } else {
    expect(error).toBe(whole.error);
  }
  return whole;
}

function oracleHeader(bytes: Buffer): string[] | undefined {
  try {
    return (parseSync(bytes, { ...csvParserOptions, to: 1 }) as string[][])[0];
  } catch {
    return undefined;
  }
}

const SCAN_CHUNKS = [1, 7, 64 * 1024];
const TARGETS = [1, 13, 200, 1e12];

describe('CsvBoundaryScanner', () => {
  it('counts rows and cuts at record boundaries like csv-parse, for random CSVs, chunkings and part sizes', () => {
    for (let seed = 1; seed <= 150; seed++) {
      const r = prng(seed);
      const { bytes, rd } = genCsv(r, { oddBreaks: seed % 3 === 0 });
      const o = oracle(bytes);
      for (const chunk of SCAN_CHUNKS) {
        if (chunk === 1 && seed % 2) continue; // byte-by-byte feeding on half the files keeps the test quick
        for (const target of TARGETS) {
          const scan = scanBytes(bytes, target, chunk);
          try {
            checkLayout(bytes, o, scan, target, rd);
          } catch (err) {
            throw new Error(`seed ${seed}, chunk ${chunk}, target ${target}: ${(err as Error).message}`);
          }
        }
      }
    }
  });

  it('cuts a part per row at targetPartBytes 1, and one part for a huge target', () => {
    const csv = Buffer.from('id,text\n1,"a\nb"\n\n2,"c,""d"""\n3,e\n');
    const perRow = scanBytes(csv, 1, 3);
    expect(perRow.totalRows).toBe(3);
    expect(perRow.parts.map((p) => [p.startByte, p.endByte, p.firstRow, p.rows, p.firstLine])).toEqual([
      [8, 16, 0, 1, 2],
      [16, 29, 1, 1, 4], // starts at the empty line 4, which is skipped, not a row
      [29, 33, 2, 1, 6],
    ]);
    const one = scanBytes(csv, 1e9, 1024);
    expect(one.parts).toEqual([{ startByte: 8, endByte: 33, firstRow: 0, rows: 3, firstLine: 2 }]);
  });

  it('skips a UTF-8 BOM and counts \\r\\n as one line, as csv-parse does', async () => {
    const csv = Buffer.from('\ufeffa,b\r\n1,"x\r\ny"\r\n\r\n2,z', 'utf8');
    const scan = await scanCsvBoundaries(Readable.from(chunksOf(csv, 2)), { targetPartBytes: 1 });
    expect(scan.recordDelimiter).toBe('\r\n');
    expect(scan.headerEndByte).toBe(8);
    // csv-parse counts the \r\n inside the quoted field as two lines: row 1 is lines 2..4, the empty line 5.
    expect(scan.parts.map((p) => [p.startByte, p.firstRow, p.rows, p.firstLine])).toEqual([
      [8, 0, 1, 2],
      [18, 1, 1, 5],
    ]);
    expect(oracle(csv).lines).toEqual([1, 4, 6]);
  });

  it('treats a \\r before \\n as data in a \\n file and a bare \\n as data in a \\r\\n file', () => {
    const lf = Buffer.from('a,b\n1,2\r\n3,4\n');
    expect(scanBytes(lf, 1, 1)).toMatchObject({ recordDelimiter: '\n', totalRows: 2 });
    expect(oracle(lf).rows).toEqual([['1', '2\r'], ['3', '4']]);
    const crlf = Buffer.from('a,b\r\n1,2\n3\r\n5,6\r\n');
    expect(scanBytes(crlf, 1, 1)).toMatchObject({ recordDelimiter: '\r\n', totalRows: 2 });
    expect(oracle(crlf).rows).toEqual([['1', '2\n3'], ['5', '6']]);
  });

  it('handles files with no data rows', () => {
    for (const text of ['', '\ufeff', 'a,b', 'a,b\n', '\n\na,b\n\n\n', '"a\nb",c\r\n']) {
      const bytes = Buffer.from(text);
      const scan = scanBytes(bytes, 1, 1);
      expect(scan.totalRows).toBe(0);
      expect(scan.unsplittable).toBeUndefined();
      const coversRest = scan.headerEndByte < bytes.length;
      expect(scan.parts).toEqual(coversRest ? [{ startByte: scan.headerEndByte, endByte: bytes.length, firstRow: 0, rows: 0, firstLine: expect.any(Number) }] : []);
    }
  });

  it('returns a single part for bare \\r delimiters, which openCsvRange still reads', async () => {
    // `\r\n` after a bare-\r header: the \n starts the next record's first field.
    const bytes = Buffer.from('a,b\r1,"x\ry"\r\r\n2,3\r4,5');
    for (const chunk of [1, 2, 64]) {
      const scan = scanBytes(bytes, 1, chunk);
      expect(scan.unsplittable).toMatch(/bare \\r/);
      expect(scan.recordDelimiter).toBe('\r');
      expect(scan.parts).toEqual([{ startByte: 4, endByte: bytes.length, firstRow: 0, rows: 3, firstLine: 2 }]);
      expect(scan.totalRows).toBe(oracle(bytes).rows.length);
      await checkPartsAgainstWhole(bytes, scan, { rd: '\r', chunk });
      await checkPartsAgainstWhole(bytes, scan, { rd: undefined, chunk });
    }
    // A file whose only line break is a final bare \r.
    expect(scanBytes(Buffer.from('a,b\r'), 1, 1)).toMatchObject({ unsplittable: expect.any(String), recordDelimiter: '\r', parts: [] });
  });

  it('does not split what it cannot model: a UTF-16 BOM, an unclosed quote in the header', () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\n1,2\n', 'utf16le')]);
    const header = Buffer.from('a,"b\n1,2\n');
    for (const bytes of [utf16, header]) {
      const scan = scanBytes(bytes, 1, 1);
      expect(scan.unsplittable).toBeTruthy();
      expect(scan).toMatchObject({ headerEndByte: 0, totalRows: -1, recordDelimiter: null });
      expect(scan.parts).toEqual([{ startByte: 0, endByte: bytes.length, firstRow: 0, rows: -1, firstLine: 1 }]);
    }
  });

  it('rejects a target under one byte and use after finish', () => {
    expect(() => new CsvBoundaryScanner({ targetPartBytes: 0 })).toThrow(RangeError);
    const s = new CsvBoundaryScanner({ targetPartBytes: 10 });
    s.finish();
    expect(() => s.push(Buffer.from('x'))).toThrow();
  });
});

describe('openCsvRange', () => {
  it('reading every part gives exactly the rows of the whole file (random CSVs, part sizes, chunkings)', async () => {
    for (let seed = 1000; seed < 1120; seed++) {
      const r = prng(seed);
      const odd = seed % 3 === 0;
      const { bytes, rd } = genCsv(r, { oddBreaks: odd });
      for (const target of [1, 50, 1e12]) {
        const scan = scanBytes(bytes, target, r.pick(SCAN_CHUNKS));
        const chunk = r.pick([1, 7, 64 * 1024]);
        try {
          const whole = await checkPartsAgainstWhole(bytes, scan, { rd, chunk });
          expect('rows' in whole).toBe(true);
          // Without the delimiter, openCsvRange finds it like csv-parse does (files that do not mix line endings).
          if (!odd) await checkPartsAgainstWhole(bytes, scan, { rd: undefined, chunk });
        } catch (err) {
          throw new Error(`seed ${seed}, target ${target}, chunk ${chunk}: ${(err as Error).message}`);
        }
      }
    }
  });

  it('names the line of the whole file, as openCsv does, for malformed input in any part', async () => {
    const kinds = ['extra field', 'missing field', 'unclosed quote', 'quote inside a field', 'text after a closing quote', 'unclosed at end'] as const;
    let failures = 0;
    for (let seed = 2000; seed < 2150; seed++) {
      const r = prng(seed);
      const { bytes, rd } = genCsv(r, { oddBreaks: false });
      const o = oracle(bytes);
      if (o.rows.length < 3) continue;
      const kind = kinds[seed % kinds.length];
      const k = r.int(1, o.rows.length - 2); // a middle row
      const rowStart = o.ends[k];
      const rowEnd = o.ends[k + 1] - rd.length; // before its delimiter
      let bad: Buffer;
      const at = (pos: number, text: string) => Buffer.concat([bytes.subarray(0, pos), Buffer.from(text), bytes.subarray(pos)]);
      switch (kind) {
        case 'extra field':
          bad = at(rowEnd, ',extra');
          break;
        case 'missing field': {
          // Drop the row and put a one-field row (or a two-field row if the file has one column).
          const columns = o.rows[0].length;
          const row = columns === 1 ? 'p,q' : 'lonely';
          bad = Buffer.concat([bytes.subarray(0, rowStart), Buffer.from(row + rd), bytes.subarray(o.ends[k + 1])]);
          break;
        }
        case 'unclosed quote':
          bad = at(rowEnd, ',"never closed');
          break;
        case 'quote inside a field':
          bad = at(rowEnd, ',ab"c');
          break;
        case 'text after a closing quote':
          bad = at(rowEnd, ',"ab"c');
          break;
        default:
          bad = Buffer.concat([bytes, Buffer.from(`${rd}"open`)]);
      }
      for (const target of [1, 40, 1e12]) {
        const scan = scanBytes(bad, target, r.pick(SCAN_CHUNKS));
        let whole: Awaited<ReturnType<typeof checkPartsAgainstWhole>>;
        try {
          whole = await checkPartsAgainstWhole(bad, scan, { rd, chunk: r.pick([1, 7, 64 * 1024]) });
        } catch (err) {
          throw new Error(`seed ${seed} (${kind}), target ${target}: ${(err as Error).message}`);
        }
        if ('error' in whole) {
          failures++;
          expect(whole.error).toMatch(/^s3:\/\/b\/big\.csv: malformed CSV near line \d+: /);
        }
        if (kind === 'extra field' || kind === 'missing field') {
          // The line is also right by an independent count: csv-parse reports the record's last line.
          expect('error' in whole).toBe(true);
          const lineOfBadRowEnd = rd === '\n' && !bad.includes(0x0d) ? 1 + count(bad.subarray(0, kind === 'extra field' ? rowEnd : rowStart), 0x0a) : undefined;
          if (lineOfBadRowEnd !== undefined && 'error' in whole) {
            expect(whole.error).toContain(`near line ${lineOfBadRowEnd}:`);
            expect(whole.error).toContain(`on line ${lineOfBadRowEnd}`);
          }
        }
      }
    }
    expect(failures).toBeGreaterThan(100);
  });

  it('reports a wrong column count on the first row of a part (checked against the header, not that row)', async () => {
    const bytes = Buffer.from('a,b\n1,2\n3,4,5\n6,7\n');
    const scan = scanBytes(bytes, 1, 64);
    const part = scan.parts[1];
    expect(part).toMatchObject({ firstRow: 1, firstLine: 3 });
    await expect(readPart(bytes, part, ['a', 'b'], '\n', 64)).rejects.toThrow(
      's3://b/big.csv: malformed CSV near line 3: Invalid Record Length: expect 2, got 3 on line 3',
    );
    expect(await wholeFile(bytes)).toEqual({ error: 's3://b/big.csv: malformed CSV near line 3: Invalid Record Length: expect 2, got 3 on line 3' });
  });

  it('fails when the part holds another number of rows than expected', async () => {
    const body = () => Readable.from([Buffer.from('1,2\n3,4\n')]);
    const read = async (expectedRows: number) => {
      const out: string[][] = [];
      for await (const row of openCsvRange(body(), ['a', 'b'], SOURCE, { firstLine: 10, expectedRows, recordDelimiter: '\n' })) out.push(row);
      return out;
    };
    expect(await read(2)).toEqual([['1', '2'], ['3', '4']]);
    await expect(read(3)).rejects.toThrow(new CsvFormatError('s3://b/big.csv: the part starting at line 10 holds 2 rows, expected 3'));
    await expect(read(1)).rejects.toThrow(/the part starting at line 10 holds more than the 1 rows expected/);
    await expect(read(1)).rejects.toBeInstanceOf(CsvFormatError);
  });

  it('keeps a leading U+FEFF of a part (only byte 0 of the file is a BOM) and reads one-column parts', async () => {
    const out: string[][] = [];
    for await (const row of openCsvRange(Readable.from([Buffer.from('\ufeffx\n""\n\ny\n')]), ['only'], SOURCE, { firstLine: 2, recordDelimiter: '\n' })) out.push(row);
    expect(out).toEqual([['\ufeffx'], [''], ['y']]);
  });

  it('stops the download when the caller stops early', async () => {
    let pulled = 0;
    const stream = new Readable({
      read() {
        pulled++;
        this.push(Buffer.from('1,2\n'.repeat(1000)));
      },
    });
    for await (const row of openCsvRange(stream, ['a', 'b'], SOURCE, { firstLine: 2, recordDelimiter: '\n' })) {
      expect(row).toEqual(['1', '2']);
      break;
    }
    expect(stream.destroyed).toBe(true);
    expect(pulled).toBeLessThan(100);
  });

  it('passes a failing download through as is (retryable), not as a CsvFormatError', async () => {
    const boom = new Error('socket hang up');
    const stream = new Readable({
      read() {
        this.destroy(boom);
      },
    });
    const rows = openCsvRange(stream, ['a', 'b'], SOURCE, { firstLine: 2, recordDelimiter: '\n' });
    const run = async () => {
      for await (const _ of rows) void _;
    };
    await expect(run()).rejects.toBe(boom);
  });
});

function count(buf: Buffer, byte: number): number {
  let n = 0;
  for (let i = buf.indexOf(byte); i >= 0; i = buf.indexOf(byte, i + 1)) n++;
  return n;
}
