import { Field, Int32, Schema } from 'apache-arrow';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { int32Data, recordBatchOf } from '../../src/io/arrowColumns';
import { footerLength, footerRowCount } from '../../src/io/parquetFooter';
import { writeParquetToFile } from '../../src/io/parquetWrite';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'io-footer-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const schema = new Schema([new Field('n', new Int32(), true)]);

async function fileWith(rows: number[], name: string): Promise<Buffer> {
  const path = join(dir, name);
  const batches = rows.map((n) => recordBatchOf(schema, [int32Data(Array.from({ length: n }, (_, i) => i))]));
  await writeParquetToFile(path, batches, { schema, maxRowGroupRows: 1000, keyValueMetadata: { a: 'b'.repeat(300) } });
  return readFileSync(path);
}

describe('footerRowCount', () => {
  it('reads num_rows from files with several row groups and with none', async () => {
    expect(footerRowCount(await fileWith([2500, 700], 'multi.parquet'))).toBe(3200);
    expect(footerRowCount(await fileWith([], 'empty.parquet'))).toBe(0);
  });

  it('needs only the footer and trailer', async () => {
    const buf = await fileWith([1234], 'one.parquet');
    const len = footerLength(buf)!;
    expect(len).toBeGreaterThan(300);
    expect(footerRowCount(buf.subarray(buf.length - len - 8))).toBe(1234);
    expect(footerRowCount(buf.subarray(buf.length - len - 7))).toBeUndefined();
  });

  it('rejects non-Parquet bytes and corrupt footers', async () => {
    expect(footerLength(Buffer.from('hello world, not parquet'))).toBeUndefined();
    expect(footerRowCount(Buffer.from('PAR1'))).toBeUndefined();
    const buf = Buffer.from(await fileWith([10], 'corrupt.parquet'));
    const len = footerLength(buf)!;
    buf.fill(0xff, buf.length - 8 - len, buf.length - 8);
    expect(() => footerRowCount(buf)).toThrow(/parquet footer/);
  });
});
