import type { S3Client } from '@aws-sdk/client-s3';
import { RecordBatch, Schema, Table, tableToIPC, util } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { emptyBatch } from './arrowColumns';
import { footerLength, footerRowCount } from './parquetFooter';
import { type ObjectWriter, createObjectWriter } from './objectWriter';

export interface ParquetWriteOptions {
  compression?: 'zstd' | 'snappy' | 'lz4' | 'none';
  /**
   * Dictionary encoding (default on). Off saves the writer hashing every value, which is wasted on
   * columns of long, mostly unique strings (arrow-rs gives up on the dictionary after 1 MiB anyway).
   */
  dictionary?: boolean;
  /** Min/max statistics (default 'page'). 'none' saves comparing every value; fine for files only read whole. */
  statistics?: 'none' | 'chunk' | 'page';
  /** Default 50,000. */
  maxRowGroupRows?: number;
  /** Default 64 MiB. wasm memory never shrinks and peaks at a few times the open row group, so bound it in bytes too. */
  maxRowGroupBytes?: number;
  keyValueMetadata?: Record<string, string>;
  /** Needed only when the batches may be empty: the file is then written with this schema and no rows. */
  schema?: Schema;
}

export type BatchSource = AsyncIterable<RecordBatch> | Iterable<RecordBatch>;

const MiB = 1024 * 1024;
const DEFAULT_ROW_GROUP_BYTES = 64 * MiB;
const SLICES_PER_ROW_GROUP = 8;
const FOOTER_CHECK_BYTES = MiB;

const COMPRESSION = { zstd: pw.Compression.ZSTD, snappy: pw.Compression.SNAPPY, lz4: pw.Compression.LZ4_RAW, none: pw.Compression.UNCOMPRESSED } as const;
const STATISTICS = { none: pw.EnabledStatistics.None, chunk: pw.EnabledStatistics.Chunk, page: pw.EnabledStatistics.Page } as const;

function writerProperties(opts: ParquetWriteOptions): pw.WriterProperties {
  // Every setter consumes the builder and returns a new one, so it must be chained.
  let builder = new pw.WriterPropertiesBuilder()
    .setCompression(COMPRESSION[opts.compression ?? 'zstd'])
    .setMaxRowGroupSize(opts.maxRowGroupRows ?? 50_000)
    .setMaxRowGroupBytes(opts.maxRowGroupBytes ?? DEFAULT_ROW_GROUP_BYTES);
  if (opts.dictionary === false) builder = builder.setDictionaryEnabled(false);
  if (opts.statistics) builder = builder.setStatisticsEnabled(STATISTICS[opts.statistics]);
  if (opts.keyValueMetadata && Object.keys(opts.keyValueMetadata).length) {
    builder = builder.setKeyValueMetadata(new Map(Object.entries(opts.keyValueMetadata)));
  }
  return builder.build();
}

function toWasmTable(table: Table): pw.Table {
  return pw.Table.fromIPCStream(tableToIPC(table, 'stream'));
}

function toWasmBatch(batch: RecordBatch): pw.RecordBatch {
  const table = toWasmTable(new Table([batch]));
  try {
    const out = table.recordBatch(0);
    if (!out) throw new Error('parquet write: IPC round trip lost the record batch');
    return out;
  } finally {
    table.free();
  }
}

function iteratorOf(batches: BatchSource): AsyncIterator<RecordBatch> | Iterator<RecordBatch> {
  return Symbol.asyncIterator in batches
    ? (batches as AsyncIterable<RecordBatch>)[Symbol.asyncIterator]()
    : (batches as Iterable<RecordBatch>)[Symbol.iterator]();
}

/**
 * Streams batches through parquet-wasm's transformParquetStream (arrow-rs AsyncArrowWriter, which
 * buffers only the open row group) into `sink`. Returns rows written; the sink is closed or aborted.
 */
async function writeParquet(sink: ObjectWriter, batches: BatchSource, opts: ParquetWriteOptions): Promise<{ rows: number; bytes: number }> {
  const it = iteratorOf(batches);
  const sliceBytes = Math.max(1, Math.floor((opts.maxRowGroupBytes ?? DEFAULT_ROW_GROUP_BYTES) / SLICES_PER_ROW_GROUP));
  let rows = 0;
  let producerError: { error: unknown } | undefined;
  try {
    const first = await it.next();
    // transformParquetStream learns the schema from its first batch, so an empty file needs one.
    if (first.done && !opts.schema) throw new Error('parquet write: no batches and no opts.schema; cannot write an empty file');
    const schema = opts.schema ?? (first.value as RecordBatch).schema;
    const next = async (): Promise<RecordBatch | undefined> => {
      const n = await it.next();
      if (n.done) return undefined;
      checkSchema(schema, n.value.schema);
      return n.value;
    };
    if (!first.done) checkSchema(schema, first.value.schema);
    let pending: RecordBatch[] = first.done ? [emptyBatch(schema)] : sliceByBytes(first.value, sliceBytes);
    const source = new ReadableStream<pw.RecordBatch>({
      async pull(ctrl) {
        // Without a macrotask yield the writer runs entirely in microtasks, the sink never drains
        // and the whole file accumulates in memory.
        await new Promise((r) => setImmediate(r));
        try {
          if (!pending.length) {
            const batch = await next();
            if (!batch) return ctrl.close();
            pending = sliceByBytes(batch, sliceBytes);
          }
          const batch = pending.shift()!;
          rows += batch.numRows;
          ctrl.enqueue(toWasmBatch(batch));
        } catch (err) {
          // transformParquetStream treats an errored input as a normal end and would finish a
          // valid-looking truncated file, so the failure is remembered and rethrown below.
          producerError = { error: err };
          ctrl.error(err);
        }
      },
    });
    const output = await pw.transformParquetStream(source, writerProperties(opts));
    const tail = new TailBuffer(FOOTER_CHECK_BYTES);
    for await (const chunk of Readable.fromWeb(output as import('node:stream/web').ReadableStream<Uint8Array>)) {
      if (producerError) break;
      tail.push(chunk as Uint8Array);
      await sink.write(chunk as Uint8Array);
    }
    if (producerError) throw producerError.error;
    verifyFooter(tail.bytes(), rows);
    return { rows, bytes: (await sink.close()).bytes };
  } catch (err) {
    await sink.abort();
    // Let the producer release what it holds (queues, open streams). Not awaited: a producer
    // blocked inside next() would only run its cleanup after that settles, possibly never.
    Promise.resolve(it.return?.()).catch(() => undefined);
    throw err;
  }
}

/** One schema per file: the wasm writer drops a mismatching batch without reporting it. */
function checkSchema(expected: Schema, got: Schema): void {
  const a = expected.fields;
  const b = got.fields;
  const bad =
    a.length !== b.length
      ? `${b.length} columns, expected ${a.length}`
      : a
          .map((f, i) =>
            f.name !== b[i].name || f.nullable !== b[i].nullable || !util.compareTypes(f.type, b[i].type)
              ? `column ${i} is ${b[i].name}: ${b[i].type}${b[i].nullable ? '' : ' not null'}, expected ${f.name}: ${f.type}${f.nullable ? '' : ' not null'}`
              : '',
          )
          .find(Boolean);
  if (bad) throw new Error(`parquet write: batch schema differs from the file's: ${bad}`);
}

/**
 * The wasm writer also ignores errors from arrow-rs (its write results are discarded), so the
 * footer it produced must account for every row sent, or the upload is aborted.
 */
function verifyFooter(tail: Uint8Array, rows: number): void {
  if (footerLength(tail) === undefined) throw new Error('parquet write: the writer produced no Parquet footer');
  const written = footerRowCount(tail);
  // undefined: a footer larger than FOOTER_CHECK_BYTES (thousands of row groups); left unchecked.
  if (written !== undefined && written !== rows) {
    throw new Error(`parquet write: footer records ${written} rows but ${rows} were sent; the wasm writer dropped data`);
  }
}

/** The last `max` bytes of a stream; copies only the tail of chunks too big to keep whole. */
class TailBuffer {
  private chunks: Uint8Array[] = [];
  private total = 0;
  constructor(private readonly max: number) {}
  push(chunk: Uint8Array): void {
    if (chunk.byteLength >= this.max) {
      this.chunks = [chunk.slice(chunk.byteLength - this.max)];
      this.total = this.max;
      return;
    }
    this.chunks.push(chunk);
    this.total += chunk.byteLength;
    while (this.total - this.chunks[0].byteLength >= this.max) this.total -= this.chunks.shift()!.byteLength;
  }
  bytes(): Uint8Array {
    return Buffer.concat(this.chunks);
  }
}

/**
 * arrow-rs applies maxRowGroupBytes using an estimate from the rows already buffered in the open
 * row group, so the first batch of each group goes in whole: a batch larger than the limit makes a
 * row group as large as the batch. Feeding zero-copy slices of a fraction of the limit keeps the
 * bound real.
 */
function sliceByBytes(batch: RecordBatch, maxBytes: number): RecordBatch[] {
  const bytes = batch.data.byteLength;
  if (bytes <= maxBytes || batch.numRows <= 1) return [batch];
  const rowsPerSlice = Math.max(1, Math.floor((batch.numRows * maxBytes) / bytes));
  const out: RecordBatch[] = [];
  for (let start = 0; start < batch.numRows; start += rowsPerSlice) out.push(batch.slice(start, start + rowsPerSlice));
  return out;
}

export async function writeParquetToS3(
  s3: S3Client,
  uri: string,
  batches: BatchSource,
  opts: ParquetWriteOptions = {},
): Promise<{ rows: number; bytes: number }> {
  return writeParquet(createObjectWriter(s3, uri, { contentType: 'application/vnd.apache.parquet' }), batches, opts);
}

/** Written to a temporary name and renamed, so a failed write leaves no truncated file behind. */
export async function writeParquetToFile(path: string, batches: BatchSource, opts: ParquetWriteOptions = {}): Promise<{ rows: number; bytes: number }> {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  const result = await writeParquet(fileWriter(tmp), batches, opts);
  await rename(tmp, path);
  return result;
}

function fileWriter(path: string): ObjectWriter {
  const out = createWriteStream(path);
  let bytes = 0;
  let error: Error | undefined;
  out.on('error', (err) => (error ??= err));
  const check = () => {
    if (error) throw error;
  };
  return {
    async write(chunk) {
      check();
      bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
      if (!out.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            out.off('drain', done);
            out.off('close', done);
            resolve();
          };
          out.on('drain', done);
          out.on('close', done);
        });
      }
      check();
    },
    async close() {
      check();
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      return { bytes };
    },
    async abort() {
      out.destroy();
      await unlink(path).catch(() => undefined);
    },
  };
}
