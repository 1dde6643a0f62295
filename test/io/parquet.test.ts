import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import {
  Bool,
  Field,
  Float64,
  Int32,
  RecordBatch,
  Schema,
  TimestampMillisecond,
  Utf8,
  util,
  vectorFromArray,
} from 'apache-arrow';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { openAsBlob } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLOAT32_LIST_TYPE, emptyBatch, float32ListData, int32Data, recordBatchOf, utf8Data } from '../../src/io/arrowColumns';
import {
  parquetRowCount,
  parquetRowCountOnS3,
  readParquetBatches,
  readParquetFile,
  readParquetFromS3,
  readParquetInfo,
} from '../../src/io/parquetRead';
import { writeParquetToFile, writeParquetToS3 } from '../../src/io/parquetWrite';
import { BlobLike, headObject, s3RangeBlob } from '../../src/io/s3';
import { MotoS3, startMotoS3 } from './helpers';

const BUCKET = 'parquet-test';
let env: MotoS3 & { stop(): Promise<void> };
let dir: string;

beforeAll(async () => {
  env = await startMotoS3(BUCKET);
  dir = await mkdtemp(join(tmpdir(), 'io-parquet-'));
});
afterAll(async () => {
  await env?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const schema = new Schema([
  new Field('record_id', new Utf8(), false),
  new Field('text', new Utf8(), true),
  new Field('tokens', new Int32(), true),
  new Field('embedding', FLOAT32_LIST_TYPE(), true),
]);

interface Row {
  record_id: string;
  text: string | null;
  tokens: number | null;
  embedding: number[] | null;
}

function makeRows(n: number, offset = 0): Row[] {
  return Array.from({ length: n }, (_, j) => {
    const i = j + offset;
    return {
      record_id: `r${i}`,
      text: i % 5 === 0 ? null : i % 3 === 0 ? `ünïcødé 😀 ${i}\n"quoted", comma` : `row ${i}`,
      tokens: i % 4 === 0 ? null : i,
      // Exact float32 values so equality after the round trip is exact.
      embedding: i % 6 === 0 ? null : Array.from({ length: 8 }, (_, k) => (i * 8 + k) / 4),
    };
  });
}

function batchOf(rows: Row[]): RecordBatch {
  return recordBatchOf(schema, [
    utf8Data(rows.map((r) => r.record_id)),
    utf8Data(rows.map((r) => r.text)),
    int32Data(rows.map((r) => r.tokens)),
    float32ListData(rows.map((r) => r.embedding)),
  ]);
}

function rowsOf(batches: RecordBatch[]): Row[] {
  const out: Row[] = [];
  for (const b of batches) {
    for (const r of b.toArray()) {
      const e = r.embedding;
      out.push({ record_id: r.record_id, text: r.text, tokens: r.tokens, embedding: e == null ? null : Array.from(e.toArray() as Float32Array) });
    }
  }
  return out;
}

async function collect(it: AsyncIterable<RecordBatch>): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

describe('Parquet on S3', () => {
  const uri = `s3://${BUCKET}/runs/r1/part-0000.parquet`;
  const rows = makeRows(1000);

  async function* produce(): AsyncGenerator<RecordBatch> {
    for (let i = 0; i < rows.length; i += 250) yield batchOf(rows.slice(i, i + 250));
  }

  beforeAll(async () => {
    const res = await writeParquetToS3(env.s3, uri, produce(), {
      compression: 'snappy',
      maxRowGroupRows: 300,
      keyValueMetadata: { run: 'r1', 'source.uri': 's3://in/x.csv' },
    });
    expect(res.rows).toBe(1000);
    expect(res.bytes).toBe((await headObject(env.s3, uri))?.size);
  });

  it('round-trips utf8 (nulls, unicode), int32 and list<float32> (null rows) exactly', async () => {
    const batches = await collect(readParquetFromS3(env.s3, uri, { batchSize: 10_000 }));
    expect(rowsOf(batches)).toEqual(rows);
  });

  it('keeps the schema: types, nullability and the list child name', async () => {
    const [first] = await collect(readParquetFromS3(env.s3, uri));
    const got = first.schema;
    expect(got.fields.map((f) => [f.name, String(f.type), f.nullable])).toEqual([
      ['record_id', 'Utf8', false],
      ['text', 'Utf8', true],
      ['tokens', 'Int32', true],
      ['embedding', 'List<Float32>', true],
    ]);
    expect(util.compareTypes(got.fields[3].type, FLOAT32_LIST_TYPE())).toBe(true);
  });

  it('splits into row groups of at most maxRowGroupRows and reads them one by one', async () => {
    const head = await headObject(env.s3, uri);
    const info = await readParquetInfo(s3RangeBlob(env.s3, uri, head!.size));
    expect(info.numRows).toBe(1000);
    expect(info.rowGroups.map((g) => g.numRows)).toEqual([300, 300, 300, 100]);
    const batches = await collect(readParquetFromS3(env.s3, uri, { batchSize: 10_000 }));
    expect(batches.map((b) => b.numRows)).toEqual([300, 300, 300, 100]);
  });

  it('gives each row group\'s row count and first row', async () => {
    const head = await headObject(env.s3, uri);
    const info = await readParquetInfo(s3RangeBlob(env.s3, uri, head!.size));
    expect(info.rowGroupRows).toEqual([300, 300, 300, 100]);
    expect(info.rowGroupFirstRow).toEqual([0, 300, 600, 900]);
  });

  it('reads only the row groups [start, end) asked for', async () => {
    const middle = await collect(readParquetFromS3(env.s3, uri, { rowGroups: { start: 1, end: 3 } }));
    expect(rowsOf(middle)).toEqual(rows.slice(300, 900));
    const last = await collect(readParquetFromS3(env.s3, uri, { rowGroups: { start: 3, end: 4 }, batchSize: 64 }));
    expect(last.map((b) => b.numRows)).toEqual([64, 36]);
    expect(rowsOf(last)).toEqual(rows.slice(900));
    const ids = await collect(readParquetFromS3(env.s3, uri, { rowGroups: { start: 0, end: 1 }, columns: ['record_id'] }));
    expect(ids.flatMap((b) => b.toArray().map((r) => r.record_id))).toEqual(rows.slice(0, 300).map((r) => r.record_id));
  });

  it('yields one empty batch with the schema for an empty row-group range, and rejects one outside the file', async () => {
    const empty = await collect(readParquetFromS3(env.s3, uri, { rowGroups: { start: 2, end: 2 } }));
    expect(empty.map((b) => b.numRows)).toEqual([0]);
    expect(empty[0].schema.fields.map((f) => f.name)).toEqual(['record_id', 'text', 'tokens', 'embedding']);
    await expect(collect(readParquetFromS3(env.s3, uri, { rowGroups: { start: 3, end: 5 } }))).rejects.toThrow(/row groups \[3, 5\)/);
    await expect(collect(readParquetFromS3(env.s3, uri, { rowGroups: { start: 2, end: 1 } }))).rejects.toThrow(RangeError);
  });

  it('stores key-value metadata (without exposing ARROW:schema)', async () => {
    const head = await headObject(env.s3, uri);
    const info = await readParquetInfo(s3RangeBlob(env.s3, uri, head!.size));
    expect(info.keyValueMetadata).toEqual({ run: 'r1', 'source.uri': 's3://in/x.csv' });
  });

  it('counts rows from the footer', async () => {
    expect(await parquetRowCountOnS3(env.s3, uri)).toBe(1000);
    const head = await headObject(env.s3, uri);
    expect(await parquetRowCount(s3RangeBlob(env.s3, uri, head!.size))).toBe(1000);
  });

  it('projects columns', async () => {
    const batches = await collect(readParquetFromS3(env.s3, uri, { columns: ['record_id', 'tokens'] }));
    expect(batches[0].schema.fields.map((f) => f.name)).toEqual(['record_id', 'tokens']);
    expect(batches.flatMap((b) => b.toArray().map((r) => r.tokens))).toEqual(rows.map((r) => r.tokens));
    await expect(collect(readParquetFromS3(env.s3, uri, { columns: ['nope'] }))).rejects.toThrow(/nope/);
  });

  it('fails clearly for a missing object', async () => {
    const missing = `s3://${BUCKET}/runs/none.parquet`;
    await expect(collect(readParquetFromS3(env.s3, missing))).rejects.toThrow(missing);
  });

  it('writes an empty file from opts.schema that reads back as zero rows with the schema', async () => {
    const emptyUri = `s3://${BUCKET}/runs/r1/empty.parquet`;
    const res = await writeParquetToS3(env.s3, emptyUri, [], { schema });
    expect(res.rows).toBe(0);
    expect(await parquetRowCountOnS3(env.s3, emptyUri)).toBe(0);
    const batches = await collect(readParquetFromS3(env.s3, emptyUri));
    expect(batches).toHaveLength(1);
    expect(batches[0].numRows).toBe(0);
    expect(util.compareSchemas(batches[0].schema, schema)).toBe(true);
  });

  it('refuses zero batches without a schema', async () => {
    await expect(writeParquetToS3(env.s3, `s3://${BUCKET}/runs/r1/x.parquet`, [])).rejects.toThrow(/opts.schema/);
  });

  it('aborts the upload and tells the producer when the producer fails', async () => {
    const failUri = `s3://${BUCKET}/runs/r1/failed.parquet`;
    let cleanedUp = false;
    async function* failing(): AsyncGenerator<RecordBatch> {
      try {
        yield batchOf(makeRows(100));
        throw new Error('producer exploded');
      } finally {
        cleanedUp = true;
      }
    }
    await expect(writeParquetToS3(env.s3, failUri, failing())).rejects.toThrow('producer exploded');
    expect(cleanedUp).toBe(true);
    expect(await headObject(env.s3, failUri)).toBeUndefined();
  });

  it('rejects a batch whose schema differs from the first, leaving no object', async () => {
    const badUri = `s3://${BUCKET}/runs/r1/mixed.parquet`;
    const other = new Schema(schema.fields.map((f) => (f.name === 'tokens' ? f.clone({ type: new Utf8() }) : f)));
    const odd = recordBatchOf(other, [utf8Data(['x']), utf8Data([null]), utf8Data(['7']), float32ListData([null])]);
    const batches = [batchOf(makeRows(10)), odd];
    await expect(writeParquetToS3(env.s3, badUri, batches)).rejects.toThrow(/schema differs.*column 2 is tokens: Utf8, expected tokens: Int32/);
    expect(await headObject(env.s3, badUri)).toBeUndefined();
  });

  it('rejects batches that do not match opts.schema', async () => {
    const nonNull = new Schema(schema.fields.map((f) => f.clone({ nullable: false })));
    await expect(writeParquetToS3(env.s3, `s3://${BUCKET}/runs/r1/nn.parquet`, [batchOf(makeRows(3))], { schema: nonNull })).rejects.toThrow(
      /text: Utf8, expected text: Utf8 not null/,
    );
  });

  it('streams: the upload is under way while the producer is still producing', async () => {
    const streamUri = `s3://${BUCKET}/runs/r1/streamed.parquet`;
    const t = new Schema([new Field('t', new Utf8(), true)]);
    let uploadsSeenMidway = -1;
    let produced = 0;
    async function* produce(): AsyncGenerator<RecordBatch> {
      for (let i = 0; i < 16; i++) {
        // 4 MiB of incompressible text per batch, 64 MiB in all.
        yield recordBatchOf(t, [utf8Data(Array.from({ length: 1024 }, () => randomBytes(3072).toString('latin1')))]);
        produced += 1;
        if (i === 12) {
          const res = await env.s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'runs/r1/streamed' }));
          uploadsSeenMidway = res.Uploads?.length ?? 0;
        }
      }
    }
    const res = await writeParquetToS3(env.s3, streamUri, produce(), { compression: 'snappy', maxRowGroupBytes: 4 * 1024 * 1024 });
    expect(produced).toBe(16);
    expect(res.rows).toBe(16 * 1024);
    // Had the writer buffered the file (or the whole output) the first part would go out only at the end.
    expect(uploadsSeenMidway).toBe(1);
    expect((await headObject(env.s3, streamUri))?.eTag).toMatch(/-\d+"$/);
  });

  it('releases the producer when the upload fails', async () => {
    let returned = false;
    async function* endless(): AsyncGenerator<RecordBatch> {
      try {
        for (let i = 0; ; i++) yield batchOf(makeRows(2000, i * 2000));
      } finally {
        returned = true;
      }
    }
    const bad = 's3://no-such-bucket-parquet/x.parquet';
    await expect(writeParquetToS3(env.s3, bad, endless(), { maxRowGroupRows: 2000 })).rejects.toThrow(bad);
    expect(returned).toBe(true);
  });
});

describe('Parquet on local files', () => {
  it('round-trips float64, bool, timestamps and sync iterables through openAsBlob', async () => {
    const s = new Schema([
      new Field('f', new Float64(), true),
      new Field('b', new Bool(), true),
      new Field('ts', new TimestampMillisecond(), true),
    ]);
    const f = [1.5, null, -0.25, Number.MAX_VALUE];
    const b = [true, null, false, true];
    const ts = [Date.UTC(2024, 0, 2, 3, 4, 5, 6), null, 0, Date.UTC(1999, 11, 31)];
    const batch = recordBatchOf(s, [
      vectorFromArray(f, new Float64()).data[0],
      vectorFromArray(b, new Bool()).data[0],
      vectorFromArray(ts, new TimestampMillisecond()).data[0],
    ]);
    const path = join(dir, 'types.parquet');
    expect(await writeParquetToFile(path, [batch, batch], { compression: 'zstd' })).toEqual({ rows: 8, bytes: expect.any(Number) });
    const batches = await collect(readParquetFile(path));
    expect(String(batches[0].schema.fields[2].type)).toBe('Timestamp<MILLISECOND>');
    const got = batches.flatMap((x) => x.toArray().map((r) => [r.f, r.b, r.ts]));
    const want = [...f.keys(), ...f.keys()].map((i) => [f[i], b[i], ts[i]]);
    expect(got).toEqual(want);
  });

  it('bounds row groups by bytes even when one batch is far larger than the limit', async () => {
    const path = join(dir, 'bytes.parquet');
    // Incompressible values: arrow-rs measures row-group bytes after encoding.
    const values = Array.from({ length: 4000 }, () => randomBytes(750).toString('base64'));
    const big = recordBatchOf(new Schema([new Field('t', new Utf8(), true)]), [utf8Data(values)]);
    const limit = 1024 * 1024;
    await writeParquetToFile(path, [big], { maxRowGroupRows: 50_000, maxRowGroupBytes: limit });
    const info = await readParquetInfo(await openAsBlob(path));
    expect(info.numRows).toBe(4000);
    expect(info.numRowGroups).toBeGreaterThanOrEqual(4);
    for (const g of info.rowGroups) expect(g.totalByteSize).toBeLessThanOrEqual(limit * 1.1);
    const back = (await collect(readParquetFile(path))).flatMap((b) => b.toArray().map((r) => r.t));
    expect(back).toEqual(values);
  });

  describe('reads of a multi-row-group file larger than the footer prefetch', () => {
    let path: string;
    const values = Array.from({ length: 4000 }, (_, i) => `${i}:${randomBytes(600).toString('base64')}`);
    const t = new Schema([new Field('id', new Int32(), false), new Field('t', new Utf8(), true)]);

    beforeAll(async () => {
      path = join(dir, 'prefetch.parquet');
      const batch = recordBatchOf(t, [int32Data(values.map((_, i) => i)), utf8Data(values)]);
      await writeParquetToFile(path, [batch], { maxRowGroupRows: 1000 });
    });

    /** Counts reads and optionally fails the nth one. */
    function instrumented(inner: BlobLike, failOn?: number) {
      let reads = 0;
      const wrap = (b: BlobLike): BlobLike => ({
        size: b.size,
        slice: (a?: number, e?: number) => wrap(b.slice(a, e)),
        arrayBuffer: async () => {
          reads += 1;
          if (reads === failOn) throw new Error('injected read failure');
          return b.arrayBuffer();
        },
      });
      return { blob: wrap(inner), reads: () => reads };
    }

    it('fetches one tail plus one range per row group; wasm never reads the source itself', async () => {
      const { blob, reads } = instrumented(await openAsBlob(path));
      expect(blob.size).toBeGreaterThan(2 * 1024 * 1024);
      const got = (await collect(readParquetBatches(blob))).flatMap((b) => b.toArray().map((r) => r.t));
      expect(got).toEqual(values);
      expect(reads()).toBe(1 + 4);
      const projected = instrumented(await openAsBlob(path));
      const ids = (await collect(readParquetBatches(projected.blob, { columns: ['id'] }))).flatMap((b) => Array.from(b.getChild('id')!));
      expect(ids).toEqual(values.map((_, i) => i));
      expect(projected.reads()).toBe(1 + 4);
    });

    it('reads a row-group range in small batches from one range per group, never from the source', async () => {
      const { blob, reads } = instrumented(await openAsBlob(path));
      const batches = await collect(readParquetBatches(blob, { rowGroups: { start: 1, end: 3 }, batchSize: 128 }));
      expect(batches.length).toBeGreaterThan(2 * 7);
      expect(batches.flatMap((b) => b.toArray().map((r) => r.t))).toEqual(values.slice(1000, 3000));
      expect(batches.flatMap((b) => Array.from(b.getChild('id')!))).toEqual(values.slice(1000, 3000).map((_, i) => 1000 + i));
      expect(reads()).toBe(1 + 2);
    });

    it.each([1, 2, 4])('rejects (rather than crashing wasm) when read %i fails', async (n) => {
      const { blob } = instrumented(await openAsBlob(path), n);
      await expect(collect(readParquetBatches(blob))).rejects.toThrow('injected read failure');
    });

    it('still works after injected failures', async () => {
      expect(await parquetRowCount(await openAsBlob(path))).toBe(4000);
    });
  });

  it.each([
    ['snappy without dictionaries', { compression: 'snappy', dictionary: false }],
    ['lz4 without statistics', { compression: 'lz4', statistics: 'none' }],
    ['uncompressed, chunk statistics', { compression: 'none', statistics: 'chunk', dictionary: false }],
  ] as const)('round-trips with %s', async (_name, opts) => {
    const path = join(dir, `opts-${opts.compression}.parquet`);
    const rows = makeRows(120);
    await writeParquetToFile(path, [batchOf(rows)], { ...opts, maxRowGroupRows: 50 });
    expect(rowsOf(await collect(readParquetFile(path)))).toEqual(rows);
  });

  it('leaves no file behind when the write fails', async () => {
    const path = join(dir, 'failed.parquet');
    function* failing(): Generator<RecordBatch> {
      yield batchOf(makeRows(10));
      throw new Error('sync producer exploded');
    }
    await expect(writeParquetToFile(path, failing())).rejects.toThrow('sync producer exploded');
    expect((await readdir(dir)).filter((n) => n.startsWith('failed'))).toEqual([]);
  });

  it('reads an empty batch written explicitly', async () => {
    const path = join(dir, 'empty.parquet');
    await writeParquetToFile(path, [emptyBatch(schema)]);
    const batches = await collect(readParquetBatches(await openAsBlob(path)));
    expect(batches.map((x) => x.numRows)).toEqual([0]);
    expect(batches[0].schema.fields.map((x) => x.name)).toEqual(schema.fields.map((x) => x.name));
  });
});
