import { Readable } from 'node:stream';
import { CsvFormatError, openCsv, readCsvHeader } from '../../src/io/csv';

async function readAll(text: string) {
  const { columns, rows } = await openCsv(Readable.from([text]), 's3://b/data.csv');
  const out: string[][] = [];
  for await (const r of rows) out.push(r);
  return { columns, out };
}

describe('CSV reading', () => {
  it('reads quoted fields with commas, quotes and newlines, and a BOM', async () => {
    const { columns, out } = await readAll('\ufeffid,text\n1,"a, ""b""\nc"\n2,plain\n');
    expect(columns).toEqual(['id', 'text']);
    expect(out).toEqual([['1', 'a, "b"\nc'], ['2', 'plain']]);
  });

  it('names the file and the line where a row breaks', async () => {
    await expect(readAll('id,text\n1,ok\n2,too,many\n')).rejects.toThrow(CsvFormatError);
    await expect(readAll('id,text\n1,ok\n2,too,many\n')).rejects.toThrow(/s3:\/\/b\/data\.csv: malformed CSV near line 3/);
  });

  it('rejects an empty file, duplicate and empty column names', async () => {
    await expect(readAll('')).rejects.toThrow(/the CSV is empty \(no header row\)/);
    await expect(readAll('a,b,a\n1,2,3\n')).rejects.toThrow(/duplicate column names: a/);
    await expect(readAll('a,,c\n1,2,3\n')).rejects.toThrow(/empty column name/);
  });

  it('reads just the header of a stream', async () => {
    expect(await readCsvHeader(Readable.from(['x,y\n1,2\n']), 'f.csv')).toEqual(['x', 'y']);
  });
});
