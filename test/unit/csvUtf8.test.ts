import { Readable } from 'node:stream';
import { CsvFormatError, openCsv, readCsvHeader } from '../../src/io/csv';
import { openCsvRange } from '../../src/io/csvSplit';
import { csvParseRange, fastCsvRows } from '../../src/io/fastCsv';
import { checkingUtf8, countLineBreaks, firstInvalidUtf8 } from '../../src/io/utf8Check';

const SOURCE = 's3://b/f.csv';

function chunksOf(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

async function readWhole(bytes: Buffer, chunk: number): Promise<string[][]> {
  const { columns, rows } = await openCsv(Readable.from(chunksOf(bytes, chunk)), SOURCE);
  const out = [columns];
  for await (const r of rows) out.push(r);
  return out;
}

const latin1 = (text: string) => Buffer.from(text, 'latin1');

describe('invalid UTF-8 in a CSV is an input error naming the file, line and byte offset', () => {
  // `caf\xe9` as a Latin-1 export writes it: byte 0xE9 at offset 18, on line 3.
  const file = latin1('id,text\n1,ok\n2,caf\xe9\n3,fine\n');

  it('in a file read whole, however the bytes are cut', async () => {
    for (const chunk of [1, 2, 3, 5, 64 * 1024]) {
      const err = await readWhole(file, chunk).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CsvFormatError);
      expect((err as Error).message).toBe(
        `${SOURCE}: invalid UTF-8 at line 3, byte offset 18: 0xE9 after "2,caf"; the file must be UTF-8 (convert it first, e.g. \`iconv -f latin1 -t utf-8\`)`,
      );
    }
  });

  it('in the header (the resolve-time read), and in a character cut short at the end of the file', async () => {
    await expect(readCsvHeader(Readable.from([latin1('id,caf\xe9\n1,2\n')]), SOURCE)).rejects.toThrow(
      `${SOURCE}: invalid UTF-8 at line 1, byte offset 6: 0xE9 after "id,caf"`,
    );
    const cut = Buffer.concat([Buffer.from('a,b\n1,\u00e9\n2,'), Buffer.from('\u20ac').subarray(0, 2)]);
    for (const chunk of [1, 4, 1024]) {
      await expect(readWhole(cut, chunk)).rejects.toThrow(`${SOURCE}: invalid UTF-8 at line 3, byte offset 11: 0xE2 0x82 after "2,"`);
    }
  });

  it('in a byte range of a file (a part): lines and offsets of the whole file', async () => {
    // Lines as csv-parse numbers them in the other messages: the quoted \r\n counts twice.
    const range = latin1('7,ok\r\n8,"x\r\ny"\r\n9,na\xefve\r\n');
    const rows: string[][] = [];
    const read = async () => {
      for await (const r of openCsvRange(Readable.from(chunksOf(range, 3)), ['id', 'text'], SOURCE, { firstLine: 40, firstByte: 1000, recordDelimiter: '\r\n' })) rows.push(r);
    };
    await expect(read()).rejects.toThrow(`${SOURCE}: invalid UTF-8 at line 44, byte offset 1020: 0xEF after "9,na"`);
  });

  it('after the fast parser hands the rest to csv-parse (which would decode it with U+FFFD)', async () => {
    // A tiny maxRecordBytes makes the fast parser fall back at the second record.
    const bytes = latin1('a,b\n1,short\n2,a much longer record\n3,ok\n4,\xff\n');
    for (const chunk of [1, 1024]) {
      const rows: string[][] = [];
      let fellBack = false;
      const read = async () => {
        const opts = { bom: true, source: SOURCE, maxRecordBytes: 16 };
        const toCsvParse = (rest: Readable, at: { line: number; recordDelimiter?: '\n' | '\r\n' | '\r' }) => {
          fellBack = true;
          return csvParseRange(rest, 2, SOURCE, { firstLine: at.line, recordDelimiter: at.recordDelimiter });
        };
        for await (const r of fastCsvRows(Readable.from(chunksOf(bytes, chunk)), opts, toCsvParse)) rows.push(r);
      };
      await expect(read()).rejects.toThrow(`${SOURCE}: invalid UTF-8 at line 5, byte offset 42: 0xFF after "4,"`);
      // In one chunk the fast parser sees no long pending record and finds the byte itself.
      expect(fellBack).toBe(chunk === 1);
      expect(rows.slice(0, 2)).toEqual([['a', 'b'], ['1', 'short']].slice(0, rows.length));
    }
  });

  it('still reads valid UTF-8 split anywhere, and a UTF-16LE file with its BOM (decoded by csv-parse)', async () => {
    const text = 'id,text\n1,naïve café 漢字 😀\n2,"x\r\ny"\n';
    for (const chunk of [1, 2, 3, 64]) {
      expect(await readWhole(Buffer.from(text), chunk)).toEqual([['id', 'text'], ['1', 'naïve café 漢字 😀'], ['2', 'x\r\ny']]);
    }
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\n1,é\n', 'utf16le')]);
    expect(await readWhole(utf16, 3)).toEqual([['a', 'b'], ['1', 'é']]);
  });
});

describe('utf8Check', () => {
  it('finds the first invalid sequence as TextDecoder defines them', () => {
    const fatal = new TextDecoder('utf-8', { fatal: true });
    const cases: number[][] = [
      [0x61, 0xc3, 0xa9],
      [0x61, 0xc0, 0x80], // overlong
      [0xe0, 0x80, 0x80], // overlong
      [0xed, 0xa0, 0x80], // surrogate
      [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
      [0xf0, 0x9f, 0x98, 0x80],
      [0xf0, 0x9f, 0x98],
      [0x80],
      [0x61, 0x62, 0xff],
      [0xe2, 0x82, 0xac, 0xe2, 0x82],
    ];
    for (const bytes of cases) {
      const buf = Uint8Array.from(bytes);
      let valid = true;
      try {
        fatal.decode(buf);
      } catch {
        valid = false;
      }
      const at = firstInvalidUtf8(buf);
      expect({ bytes, valid: at < 0 }).toEqual({ bytes, valid });
    }
    expect(firstInvalidUtf8(Uint8Array.from([0x61, 0x62, 0xff]))).toBe(2);
    expect(firstInvalidUtf8(Uint8Array.from([0xe2, 0x82, 0xac, 0xe2, 0x82]))).toBe(3);
  });

  it('counts \\r\\n, \\n and a lone \\r as one line break each', () => {
    expect(countLineBreaks(Buffer.from('a\r\nb\nc\rd\r'), 0, 10)).toBe(4);
    expect(countLineBreaks(Buffer.from('a\r\n'), 0, 2)).toBe(1);
  });

  it('checks a stream whose characters and \\r\\n are cut between chunks', async () => {
    const bytes = Buffer.concat([Buffer.from('ok é\r\n€ 😀\r\nthen '), latin1('\xe9')]);
    for (const chunk of [1, 2, 3, 5]) {
      const got: Buffer[] = [];
      const read = async () => {
        for await (const c of checkingUtf8(Readable.from(chunksOf(bytes, chunk)), { source: 'x', line: 10, byteOffset: 100 })) got.push(c);
      };
      await expect(read()).rejects.toThrow(`x: invalid UTF-8 at line 12, byte offset ${100 + bytes.length - 1}: 0xE9 after "then "`);
    }
  });
});
