import type { S3Client } from '@aws-sdk/client-s3';
import { DataType, RecordBatch, Schema, tableFromIPC } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { openAsBlob } from 'node:fs';
import { emptyBatch, recordBatchOf } from './arrowColumns';
import type { BlobLike } from './blob';
import { footerLength, footerRowCount, footerRowGroups } from './parquetFooter';
import { PrefetchingBlob } from './prefetchBlob';
import { headObject, s3RangeBlob } from './s3';
import { decodeUtf8Chunk } from './utf8ParquetRead';

export interface ParquetReadOptions {
  /**
   * Rows per yielded batch (default 8,192). wasm decodes one batch at a time from the row group's
   * compressed column chunks, so this bounds the decoded part of wasm (and JS) memory; the file's
   * row-group size still bounds the compressed part.
   */
  batchSize?: number;
  columns?: string[];
  /**
   * Only row groups `start` (inclusive) to `end` (exclusive), as cut by a planner from
   * `ParquetFileInfo.rowGroupRows`; the first row yielded is then row `rowGroupFirstRow[start]`
   * of the file. An empty range yields one empty batch (the schema), like an empty file.
   */
  rowGroups?: { start: number; end: number };
  /** Tests only: decode through parquet-wasm even a file utf8ParquetRead.ts could read. */
  wasmOnly?: boolean;
}

export interface ParquetFileInfo {
  numRows: number;
  numRowGroups: number;
  rowGroups: Array<{ numRows: number; totalByteSize: number }>;
  /** Rows of each row group (same as rowGroups[i].numRows). */
  rowGroupRows: number[];
  /** File row index of each row group's first row (prefix sums of rowGroupRows). */
  rowGroupFirstRow: number[];
  keyValueMetadata: Record<string, string>;
  schema: Schema;
}

const MiB = 1024 * 1024;
const DEFAULT_BATCH_ROWS = 8192;
/** Fetched in one GET: footer plus page index for all but very wide or very long files. */
const TAIL_BYTES = MiB;

interface OpenedFile {
  pf: PrefetchingBlob;
  file: pw.ParquetFile;
  tail: Region;
  footerStart: number;
}

type Region = Awaited<ReturnType<PrefetchingBlob['fetch']>>;

async function openParquet(blob: BlobLike): Promise<OpenedFile> {
  const pf = new PrefetchingBlob(blob);
  const size = pf.size;
  if (size < 12) throw new Error(`not a Parquet file: only ${size} bytes`);
  let tail = await pf.fetch(Math.max(0, size - TAIL_BYTES), size);
  const len = footerLength(tail.bytes);
  if (len === undefined) throw new Error('not a Parquet file: no PAR1 trailer');
  if (len + 12 > size) throw new Error(`corrupt Parquet file: footer of ${len} bytes in a ${size}-byte file`);
  // The page index sits just before the footer and wasm reads it with the footer.
  if (len + 8 > tail.bytes.byteLength) tail = await pf.fetch(Math.max(0, size - len - 8 - TAIL_BYTES), size);
  pf.serve([tail]);
  // fromFile reads only size/slice/arrayBuffer; the cast is to wasm-bindgen's nominal Blob type.
  const file = await pw.ParquetFile.fromFile(pf.view() as unknown as Blob);
  return { pf, file, tail, footerStart: size - 8 - len };
}

/**
 * Byte ranges of each row group's column chunks (only `columns`, adjacent ones merged), from the
 * footer's offsets. Undefined when the tail lacks the footer or an offset lies outside the data;
 * wasm then reads through to the underlying blob.
 */
function rowGroupRanges(tail: Uint8Array, footerStart: number, columns?: string[]): Array<Array<[number, number]>> | undefined {
  const groups = footerRowGroups(tail);
  if (!groups) return undefined;
  const out: Array<Array<[number, number]>> = [];
  for (const group of groups) {
    const ranges: Array<[number, number]> = [];
    for (const chunk of group.chunks) {
      if (chunk.start < 4 || chunk.size < 0 || chunk.start + chunk.size > footerStart) return undefined;
      if (columns && !columns.includes(chunk.path[0])) continue;
      const last = ranges[ranges.length - 1];
      if (last && last[1] === chunk.start) last[1] = chunk.start + chunk.size;
      else ranges.push([chunk.start, chunk.start + chunk.size]);
    }
    out.push(ranges);
  }
  return out;
}

/** Row groups whose columns utf8ParquetRead.ts can decode: each column chunk's [start, end) in the file. */
type StringLayout = Array<{ rows: number; chunks: Array<{ start: number; end: number }> }>;

// parquet.thrift values: the BYTE_ARRAY type, no compression, and the encodings utf8ParquetRead.ts decodes.
const BYTE_ARRAY = 6;
const UNCOMPRESSED = 0;
const STRING_ENCODINGS = new Set([0, 2, 3, 8]); // PLAIN, PLAIN_DICTIONARY, RLE (levels), RLE_DICTIONARY

/**
 * The layout of a file whose every column is a flat string column that utf8ParquetRead.ts can
 * decode (BYTE_ARRAY, uncompressed, PLAIN or dictionary-encoded), read from the footer,
 * or undefined: anything else (other types, codecs or encodings, nested columns) goes through wasm.
 */
function stringLayout(tail: Uint8Array, footerStart: number, schema: Schema): StringLayout | undefined {
  if (!schema.fields.every((f) => DataType.isUtf8(f.type))) return undefined;
  const groups = footerRowGroups(tail);
  if (!groups) return undefined;
  const out: StringLayout = [];
  for (const group of groups) {
    if (group.chunks.length !== schema.fields.length) return undefined;
    const chunks: StringLayout[number]['chunks'] = [];
    for (const [c, chunk] of group.chunks.entries()) {
      const fits =
        chunk.codec === UNCOMPRESSED &&
        chunk.physicalType === BYTE_ARRAY &&
        chunk.path.length === 1 &&
        chunk.path[0] === schema.fields[c].name &&
        chunk.encodings.every((e) => STRING_ENCODINGS.has(e)) &&
        chunk.start >= 4 &&
        chunk.size >= 0 &&
        chunk.start + chunk.size <= footerStart;
      if (!fits) return undefined;
      chunks.push({ start: chunk.start, end: chunk.start + chunk.size });
    }
    out.push({ rows: group.rows, chunks });
  }
  return out;
}

function arrowSchemaOf(file: pw.ParquetFile): Schema {
  return tableFromIPC(file.schema().intoIPCStream()).schema;
}

/** From the footer alone (one ranged read). */
export async function parquetRowCount(blob: BlobLike): Promise<number> {
  const { file, tail } = await openParquet(blob);
  file.free();
  const rows = footerRowCount(tail.bytes);
  if (rows === undefined) throw new Error('parquet footer not in the fetched tail');
  return rows;
}

/** Whether readParquetBatches decodes the whole file in JS (flat string columns only; see stringLayout), not through wasm. */
export async function decodesInJs(blob: BlobLike): Promise<boolean> {
  const { file, tail, footerStart } = await openParquet(blob);
  try {
    return stringLayout(tail.bytes, footerStart, arrowSchemaOf(file)) !== undefined;
  } finally {
    file.free();
  }
}

/** Footer only: row groups, key-value metadata and the Arrow schema, without decoding data. */
export async function readParquetInfo(blob: BlobLike): Promise<ParquetFileInfo> {
  const { file } = await openParquet(blob);
  try {
    const meta = file.metadata();
    const fileMeta = meta.fileMetadata();
    const rowGroups = meta.rowGroups().map((g) => {
      const out = { numRows: g.numRows(), totalByteSize: g.totalByteSize() };
      g.free();
      return out;
    });
    const kv = fileMeta.keyValueMetadata() as Map<string, string>;
    const rowGroupRows = rowGroups.map((g) => g.numRows);
    const rowGroupFirstRow: number[] = [];
    let first = 0;
    for (const n of rowGroupRows) {
      rowGroupFirstRow.push(first);
      first += n;
    }
    const info: ParquetFileInfo = {
      numRows: fileMeta.numRows(),
      numRowGroups: meta.numRowGroups(),
      rowGroups,
      rowGroupRows,
      rowGroupFirstRow,
      // ARROW:schema is arrow-rs's own serialised schema, surfaced as `schema` instead.
      keyValueMetadata: Object.fromEntries([...kv].filter(([k]) => k !== 'ARROW:schema')),
      schema: arrowSchemaOf(file),
    };
    fileMeta.free();
    meta.free();
    return info;
  } finally {
    file.free();
  }
}

/**
 * Decodes one row group at a time into apache-arrow RecordBatches, fetching each group's column
 * chunks first (see PrefetchingBlob). A file with no rows yields a single empty batch, so
 * consumers still see the schema (e.g. to write an empty output file). Files of uncompressed flat
 * string columns only (our snapshots, some text datasets; see stringLayout) are decoded in JS instead
 * (utf8ParquetRead.ts): the same schema and rows in batches of the same sizes, for a fraction of
 * the CPU and without the wasm memory.
 */
export async function* readParquetBatches(blob: BlobLike, opts: ParquetReadOptions = {}): AsyncGenerator<RecordBatch> {
  const { pf, file, tail, footerStart } = await openParquet(blob);
  try {
    const schema = arrowSchemaOf(file);
    if (opts.columns) {
      const missing = opts.columns.filter((c) => !schema.fields.some((f) => f.name === c));
      if (missing.length) throw new Error(`parquet file has no column(s) ${missing.join(', ')}`);
    }
    const meta = file.metadata();
    const numGroups = meta.numRowGroups();
    meta.free();
    const { start, end } = opts.rowGroups ?? { start: 0, end: numGroups };
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= numGroups)) {
      throw new RangeError(`parquet read: row groups [${start}, ${end}) are not within the file's ${numGroups}`);
    }
    const batchSize = opts.batchSize ?? DEFAULT_BATCH_ROWS;
    let yielded = false;
    const layout = opts.columns || opts.wasmOnly ? undefined : stringLayout(tail.bytes, footerStart, schema);
    if (layout) {
      for (let g = start; g < end; g++) {
        const { rows, chunks } = layout[g];
        if (!chunks.length) continue;
        // One GET for the whole row group (writers put its chunks one after another), decoded without wasm.
        const region = await pf.fetch(Math.min(...chunks.map((k) => k.start)), Math.max(...chunks.map((k) => k.end)));
        const columns = chunks.map((k, c) => decodeUtf8Chunk(region.bytes.subarray(k.start - region.start, k.end - region.start), rows, schema.fields[c].nullable));
        const batch = recordBatchOf(schema, columns);
        for (let from = 0; from < rows; from += batchSize) {
          yielded = true;
          yield from === 0 && rows <= batchSize ? batch : batch.slice(from, Math.min(rows, from + batchSize));
        }
      }
      if (!yielded) yield emptyBatch(schema);
      return;
    }
    const groups = start < end ? rowGroupRanges(tail.bytes, footerStart, opts.columns) : undefined;
    for (let g = start; g < end; g++) {
      const ranges = groups?.[g] ?? [];
      pf.serve([tail, ...(await Promise.all(ranges.map(([a, b]) => pf.fetch(a, b))))]);
      const stream = (await file.stream({ rowGroups: [g], batchSize, columns: opts.columns })) as ReadableStream<pw.RecordBatch>;
      const reader = stream.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          // arrow-rs fetches all of the group's column chunks before it decodes the first batch, so
          // from here on the prefetched copies are dead weight; a read they would have served
          // (a layout we did not predict) falls through to the underlying blob.
          pf.serve([tail]);
          if (done) break;
          // intoIPCStream consumes the wasm batch, so nothing is left to free on the wasm side.
          for (const batch of tableFromIPC(value.intoIPCStream()).batches) {
            yielded = true;
            yield batch;
          }
        }
      } finally {
        await reader.cancel().catch(() => undefined);
      }
    }
    pf.serve([]);
    if (!yielded) yield emptyBatch(opts.columns ? schema.select(opts.columns) : schema);
  } finally {
    file.free();
  }
}

async function requireHead(s3: S3Client, uri: string): Promise<{ size: number; eTag: string }> {
  const head = await headObject(s3, uri);
  if (!head) throw new Error(`S3 object not found: ${uri}`);
  return head;
}

export async function* readParquetFromS3(s3: S3Client, uri: string, opts: ParquetReadOptions = {}): AsyncGenerator<RecordBatch> {
  const { size, eTag } = await requireHead(s3, uri);
  yield* readParquetBatches(s3RangeBlob(s3, uri, size, { eTag }), opts);
}

export async function parquetRowCountOnS3(s3: S3Client, uri: string): Promise<number> {
  const { size, eTag } = await requireHead(s3, uri);
  return parquetRowCount(s3RangeBlob(s3, uri, size, { eTag }));
}

export async function* readParquetFile(path: string, opts: ParquetReadOptions = {}): AsyncGenerator<RecordBatch> {
  yield* readParquetBatches(await openAsBlob(path), opts);
}
