/**
 * Uncompressed string columns of Parquet files written by pyarrow and by arrow-rs (parquet-wasm) —
 * PLAIN and dictionary pages, data pages v1 and v2, nulls, many pages and row groups — decode in JS
 * to exactly what arrow-rs (wasm) decodes; files the JS path does not take (Snappy, zstd, other
 * column types) read through wasm, to the same rows.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { openAsBlob } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RecordBatch, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { decodesInJs, readParquetFile } from '../../src/io/parquetRead';
import { writeParquetToFile } from '../../src/io/parquetWrite';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parquet-strings-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Rows: a low-cardinality column (dictionary pages throughout), a high-cardinality one (the writer
// falls back from dictionary to PLAIN), one with nulls, empty strings, multi-byte and long values.
const WRITE = `
import sys, pyarrow as pa, pyarrow.parquet as pq
out = sys.argv[1]
n = 5000
words = ["", "alpha", "beta", "é 字 Привет 😀", "say \\"hi\\",\\nthen"]
low = [words[i % len(words)] for i in range(n)]
high = [f"row {i} " + "x" * (i % 300) for i in range(n)]
nulls = [None if i % 7 == 3 else f"v{i % 50}" for i in range(n)]
long = ["L" * 70000 if i % 1000 == 0 else str(i) for i in range(n)]
t = pa.table({"low": low, "high": high, "nulls": nulls, "long": long})
variants = {
  "snappy-v1-dict": dict(compression="snappy", use_dictionary=True, data_page_version="1.0"),
  "snappy-v2-dict": dict(compression="snappy", use_dictionary=True, data_page_version="2.0"),
  "none-v1-plain": dict(compression="none", use_dictionary=False, data_page_version="1.0"),
  "none-v2-dict": dict(compression="none", use_dictionary=True, data_page_version="2.0"),
  "snappy-small-pages": dict(compression="snappy", use_dictionary=True, data_page_size=2048, dictionary_pagesize_limit=4096),
  "none-small-pages": dict(compression="none", use_dictionary=True, data_page_size=2048, dictionary_pagesize_limit=4096),
  "zstd": dict(compression="zstd"),
}
for name, kw in variants.items():
  pq.write_table(t, f"{out}/{name}.parquet", row_group_size=1700, **kw)
pq.write_table(pa.table({"s": ["a", "b"], "n": [1, 2]}), f"{out}/mixed.parquet")
`;

async function rowsOf(path: string, wasmOnly: boolean): Promise<Array<Array<string | null>>> {
  const batches: RecordBatch[] = [];
  for await (const b of readParquetFile(path, { wasmOnly })) batches.push(b);
  return batches.flatMap((b) => Array.from({ length: b.numRows }, (_, r) => b.schema.fields.map((_, c) => b.getChildAt(c)!.get(r) as string | null)));
}

describe('string columns decoded in JS', () => {
  beforeAll(() => {
    execFileSync(process.env.PYTHON3 ?? 'python3', ['-c', WRITE, dir]);
  });

  it.each([
    ['none-v1-plain', true],
    ['none-v2-dict', true],
    ['snappy-v1-dict', false],
    ['snappy-v2-dict', false],
    ['snappy-small-pages', false],
    ['zstd', false],
  ])('pyarrow %s (decoded in JS: %s): the same rows as arrow-rs reads', async (name, inJs) => {
    const path = join(dir, `${name}.parquet`);
    expect(await decodesInJs(await openAsBlob(path))).toBe(inJs);
    const rows = await rowsOf(path, false);
    expect(rows).toHaveLength(5000);
    expect(rows).toEqual(await rowsOf(path, true));
    expect(rows[3]).toEqual(['é 字 Привет 😀', 'row 3 xxx', null, '3']);
    expect(rows[1000][3]).toBe('L'.repeat(70000));
  });

  it('an uncompressed pyarrow file with small pages: dictionary pages, then PLAIN once the dictionary is full', async () => {
    const path = join(dir, 'none-small-pages.parquet');
    expect(await decodesInJs(await openAsBlob(path))).toBe(true);
    expect(await rowsOf(path, false)).toEqual(await rowsOf(path, true));
  });

  it('arrow-rs (parquet-wasm) uncompressed files decode in JS to the rows written', async () => {
    const path = join(dir, 'arrow-rs.parquet');
    const values = Array.from({ length: 3000 }, (_, i) => (i % 11 === 0 ? null : `text ${i % 40} ${'y'.repeat(i % 90)}`));
    const table = new Table({ a: vectorFromArray(values.map((v) => v ?? ''), new Utf8()), b: vectorFromArray(values, new Utf8()) });
    async function* batches() {
      yield* table.batches;
    }
    await writeParquetToFile(path, batches(), { compression: 'none', maxRowGroupRows: 1000 });
    expect(await decodesInJs(await openAsBlob(path))).toBe(true);
    const js = await rowsOf(path, false);
    expect(js).toEqual(await rowsOf(path, true));
    expect(js.map((r) => r[1])).toEqual(values);
  });

  it('a file with a non-string column goes through wasm and still reads', async () => {
    const path = join(dir, 'mixed.parquet');
    expect(await decodesInJs(await openAsBlob(path))).toBe(false);
    expect((await rowsOf(path, false)).map((r) => [r[0], Number(r[1])])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });
});
