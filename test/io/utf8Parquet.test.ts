import { Field, RecordBatch, Schema, Utf8 } from 'apache-arrow';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { recordBatchOf, utf8Data } from '../../src/io/arrowColumns';
import type { ObjectWriter } from '../../src/io/objectWriter';
import { readParquetFile } from '../../src/io/parquetRead';
import { writeParquetToFile } from '../../src/io/parquetWrite';
import { Utf8ParquetWriter, definitionLevels, encodeColumnPage } from '../../src/io/utf8Parquet';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'utf8-parquet-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An ObjectWriter onto a local file (the writer only needs write/close). */
function fileWriter(path: string): ObjectWriter {
  const out = createWriteStream(path);
  let bytes = 0;
  return {
    async write(chunk) {
      bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
      if (!out.write(chunk)) await once(out, 'drain');
    },
    async close() {
      out.end();
      await once(out, 'finish');
      return { bytes };
    },
    async abort() {
      out.destroy();
    },
  };
}

async function readAll(path: string): Promise<{ schema: Schema; rows: Array<Array<string | null>> }> {
  const rows: Array<Array<string | null>> = [];
  let schema: Schema | undefined;
  for await (const batch of readParquetFile(path)) {
    schema ??= batch.schema;
    for (let r = 0; r < batch.numRows; r++) rows.push(batch.schema.fields.map((_, c) => batch.getChildAt(c)!.get(r) as string | null));
  }
  return { schema: schema!, rows };
}

const VALUES = ['', 'plain', 'say "hi", then\nbreak\r\n', 'é 字 Привет 😀', 'lone \ud83d high', '\ude00 lone low', 'x'.repeat(70_000), '\u0000ctl'];

describe('utf8Parquet', () => {
  it('encodes definition levels as one RLE run without nulls and bit-packed with them', () => {
    expect([...definitionLevels(['a', 'b', 'c'], 0)]).toEqual([2, 0, 0, 0, 6, 1]);
    expect([...definitionLevels(['a', null, 'c'], 1)]).toEqual([2, 0, 0, 0, 3, 0b101]);
    expect([...encodeColumnPage(['ab'], false)]).toEqual([2, 0, 0, 0, 0x61, 0x62]);
  });

  it('writes files parquet-wasm reads back as the Arrow path wrote them: same schema and rows', async () => {
    const schema = new Schema([new Field('recordId', new Utf8(), false), new Field('text', new Utf8(), true), new Field('other col', new Utf8(), true)]);
    const rows: Array<[string, string | null, string | null]> = [];
    for (let i = 0; i < 3000; i++) rows.push([String(i).padStart(11, '0'), i % 7 === 3 ? null : VALUES[i % VALUES.length], i % 11 === 0 ? null : `r${i}`]);
    const mine = join(dir, 'mine.parquet');
    const out = fileWriter(mine);
    const writer = new Utf8ParquetWriter(out, schema.fields.map((f) => ({ name: f.name, nullable: f.nullable })));
    for (let start = 0; start < rows.length; start += 1000) {
      const slice = rows.slice(start, start + 1000);
      await writer.writeRowGroup([0, 1, 2].map((c) => slice.map((r) => r[c])));
    }
    await writer.close();
    await out.close();
    const arrow = join(dir, 'arrow.parquet');
    const batch: RecordBatch = recordBatchOf(schema, [0, 1, 2].map((c) => utf8Data(rows.map((r) => r[c]))));
    await writeParquetToFile(arrow, [batch], { compression: 'snappy', dictionary: false, schema });
    const [a, b] = [await readAll(mine), await readAll(arrow)];
    expect(a.schema.fields.map((f) => [f.name, String(f.type), f.nullable])).toEqual(b.schema.fields.map((f) => [f.name, String(f.type), f.nullable]));
    expect(a.rows).toEqual(b.rows);
    expect(a.rows.length).toBe(3000);
  });

  it('writes a file with no row groups that reads as an empty batch with the schema', async () => {
    const path = join(dir, 'empty.parquet');
    const out = fileWriter(path);
    const writer = new Utf8ParquetWriter(out, [{ name: 'recordId', nullable: false }]);
    await writer.close();
    await out.close();
    const { schema, rows } = await readAll(path);
    expect(schema.fields.map((f) => f.name)).toEqual(['recordId']);
    expect(rows).toEqual([]);
  });
});
