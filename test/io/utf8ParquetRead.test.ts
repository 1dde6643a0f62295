import { RecordBatch } from 'apache-arrow';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { readParquetFile } from '../../src/io/parquetRead';
import { writeParquetToFile } from '../../src/io/parquetWrite';
import { Utf8ParquetWriter, definitionLevels } from '../../src/io/utf8Parquet';
import { decodeDefinitionLevels } from '../../src/io/utf8ParquetRead';
import { recordBatchOf, utf8Data } from '../../src/io/arrowColumns';
import { Field, Schema, Utf8 } from 'apache-arrow';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'utf8-parquet-read-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeUtf8(path: string, columns: Array<{ name: string; nullable: boolean }>, groups: Array<Array<Array<string | null>>>): Promise<void> {
  const out = createWriteStream(path);
  const writer = new Utf8ParquetWriter(
    {
      async write(chunk) {
        if (!out.write(chunk)) await once(out, 'drain');
      },
      async close() {
        out.end();
        await once(out, 'finish');
        return { bytes: 0 };
      },
      async abort() {
        out.destroy();
      },
    },
    columns,
  );
  for (const g of groups) await writer.writeRowGroup(g);
  await writer.close();
  out.end();
  await once(out, 'finish');
}

async function readBatches(path: string, opts: { wasmOnly?: boolean; batchSize?: number } = {}): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of readParquetFile(path, opts)) out.push(b);
  return out;
}

const rowsOf = (batches: RecordBatch[]) => batches.flatMap((b) => Array.from({ length: b.numRows }, (_, r) => b.schema.fields.map((_, c) => b.getChildAt(c)!.get(r) as string | null)));
const shape = (b: RecordBatch) => b.schema.fields.map((f) => [f.name, String(f.type), f.nullable, [...f.metadata]]);

const VALUES = ['', 'plain', 'say "hi", then\nbreak\r\n', 'é 字 Привет 😀', 'x'.repeat(70_000), 'y'.repeat(63), 'z'.repeat(64), '\u0000ctl'];

describe('utf8ParquetRead', () => {
  it('decodes definition levels written as one RLE run or bit-packed', () => {
    const values = ['a', null, 'c', null, null, 'f', 'g', 'h', 'i', null];
    const levels = new Uint8Array(12);
    const enc = definitionLevels(values, 4);
    expect(decodeDefinitionLevels(enc, 0, values.length, levels, 2)).toBe(enc.length);
    expect([...levels.subarray(2)]).toEqual(values.map((v) => (v === null ? 0 : 1)));
    const run = definitionLevels(['a', 'b', 'c'], 0);
    const all = new Uint8Array(3);
    decodeDefinitionLevels(run, 0, 3, all, 0);
    expect([...all]).toEqual([1, 1, 1]);
  });

  it('reads a utf8Parquet file as parquet-wasm does: same schema, rows and batch sizes', async () => {
    const columns = [{ name: 'record_id', nullable: false }, { name: 'text', nullable: true }, { name: 'other col', nullable: true }];
    const groups: Array<Array<Array<string | null>>> = [];
    let i = 0;
    for (const size of [2500, 1, 9000]) {
      const g: Array<Array<string | null>> = [[], [], []];
      for (let k = 0; k < size; k++, i++) {
        g[0].push(String(i).padStart(11, '0'));
        g[1].push(i % 7 === 3 ? null : VALUES[i % VALUES.length]);
        g[2].push(i % 11 === 0 ? null : `r${i}`);
      }
      groups.push(g);
    }
    const path = join(dir, 'snap.parquet');
    await writeUtf8(path, columns, groups);
    const [js, wasm] = [await readBatches(path), await readBatches(path, { wasmOnly: true })];
    expect(shape(js[0])).toEqual(shape(wasm[0]));
    expect(js.map((b) => b.numRows)).toEqual(wasm.map((b) => b.numRows));
    expect(rowsOf(js)).toEqual(rowsOf(wasm));
    expect(rowsOf(js).length).toBe(11_501);
    expect(js.map((b) => b.getChildAt(1)!.nullCount)).toEqual(wasm.map((b) => b.getChildAt(1)!.nullCount));
    const small = await readBatches(path, { batchSize: 1000 });
    expect(small.map((b) => b.numRows)).toEqual([1000, 1000, 500, 1, ...Array(9).fill(1000)]);
    expect(rowsOf(small)).toEqual(rowsOf(wasm));
  });

  it('reads a file with no row groups as one empty batch with the schema', async () => {
    const path = join(dir, 'empty.parquet');
    await writeUtf8(path, [{ name: 'record_id', nullable: false }], []);
    const batches = await readBatches(path);
    expect(batches.map((b) => b.numRows)).toEqual([0]);
    expect(batches[0].schema.fields.map((f) => f.name)).toEqual(['record_id']);
  });

  it('leaves files of other writers to parquet-wasm', async () => {
    const schema = new Schema([new Field('a', new Utf8(), true)]);
    const path = join(dir, 'arrow.parquet');
    await writeParquetToFile(path, [recordBatchOf(schema, [utf8Data(['x', null, 'z'])])], { compression: 'none', dictionary: false });
    expect(rowsOf(await readBatches(path))).toEqual([['x'], [null], ['z']]);
  });
});
