import type { Schema } from 'apache-arrow';
import { PartPlanLimits, RowGroupLayout, planCsvParts, planRowGroupParts } from '../core/partPlan';
import type { DatasetSource, InputPart, PreparePlan } from '../shared/types';
import type { BlobLike } from './blob';
import { CsvRecordDelimiter, openCsvRange, scanCsvBoundaries } from './csvSplit';
import { DatasetClients, DatasetError, csvSchema, datasetFormat, openSource, parquetReadError } from './dataset';
import { rowGroupRows } from './parquetRows';
import { hubSplitBlobs, readHubRowGroupLayout } from './huggingface';
import { readParquetInfo } from './parquetRead';
import { headObject, openObjectStream, s3RangeBlob } from './s3';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Bytes of the ranges a CSV's boundary scan reports. A part reads whole ranges and parses the rows
 * of its first and last range that belong to its neighbours too, so ranges are a small fraction of
 * a part; and at most ~100,000 of them, which the planner holds in memory.
 */
function scanRangeBytes(size: number, partBytes: number): number {
  return Math.max(Math.min(MiB, Math.max(64 * KiB, Math.floor(partBytes / 16))), Math.ceil(size / 100_000));
}

/**
 * Cuts a source into preprocessing parts, groups of whole shards planned from the source's row
 * count: Parquet (S3 or the Hub) from the footers; a CSV larger than one part from a quote-aware
 * scan for record boundaries, which counts its rows and where they are (`onProgress` gets the
 * bytes scanned so far); a smaller CSV is one part read whole, whose shards are planned when it
 * has counted its rows (`countWholeRows`).
 */
export async function planSourceParts(
  clients: DatasetClients,
  source: DatasetSource,
  limits: PartPlanLimits,
  onProgress?: (scannedBytes: number) => void,
): Promise<PreparePlan & { eTag: string }> {
  if ('huggingFace' in source) {
    const layout = await readHubRowGroupLayout(clients.hub, source.huggingFace);
    return withRowCount(layout.eTag, planRowGroupParts(layout.files, limits));
  }
  const uri = source.s3Uri;
  const head = await headObject(clients.s3, uri);
  if (!head) throw new DatasetError(`input object not found: ${uri}`);
  if (datasetFormat(uri) === 'parquet') {
    const info = await readParquetInfo(s3RangeBlob(clients.s3, uri, head.size, { eTag: head.eTag })).catch((err: unknown) => {
      throw parquetReadError(uri, err);
    });
    const groups: RowGroupLayout[] = info.rowGroups.map((g) => ({ rows: g.numRows, bytes: g.totalByteSize }));
    return withRowCount(head.eTag, planRowGroupParts([groups], limits));
  }
  // A small CSV, or a trial on its first rows (which must not scan the whole file), is one part.
  const whole: PreparePlan & { eTag: string } = { eTag: head.eTag, parts: [{ index: 0, kind: 'whole', firstRow: 0 }] };
  if (head.size <= limits.partBytes || limits.maxRows !== undefined) return whole;
  const { body } = await openObjectStream(clients.s3, uri, { eTag: head.eTag });
  const scan = await scanCsvBoundaries(reportingBytes(body, onProgress), { targetPartBytes: scanRangeBytes(head.size, limits.partBytes) });
  if (scan.unsplittable || scan.totalRows < 0 || !scan.recordDelimiter) return whole;
  const recordDelimiter = scan.recordDelimiter;
  return withRowCount(head.eTag, planCsvParts(scan.parts, limits).map((p) => ({ ...p, recordDelimiter })));
}

function withRowCount(eTag: string, parts: InputPart[]): PreparePlan & { eTag: string } {
  return { eTag, parts, rowCount: parts.reduce((n, p) => n + (p.rows ?? 0), 0) };
}

async function* reportingBytes(chunks: AsyncIterable<Uint8Array>, onProgress?: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  let bytes = 0;
  for await (const chunk of chunks) {
    bytes += chunk.length;
    onProgress?.(bytes);
    yield chunk;
  }
}

/**
 * Rows of a part read whole, at most `maxRows`: a CSV that no scan planned (small, a trial on its
 * first rows, or one the scan cannot split). Its shards are planned from this count before the
 * part is read, as a scanned input's are. A whole CSV is counted by the boundary scan (no
 * parsing); a trial by reading rows until it has enough.
 */
export async function countWholeRows(clients: DatasetClients, source: DatasetSource, opts: { maxRows?: number; eTag: string }): Promise<number> {
  if (opts.maxRows === undefined && 's3Uri' in source && datasetFormat(source.s3Uri) === 'csv') {
    const { body } = await openObjectStream(clients.s3, source.s3Uri, { eTag: opts.eTag });
    const scan = await scanCsvBoundaries(body, { targetPartBytes: Infinity });
    if (scan.totalRows >= 0) return scan.totalRows;
  }
  const opened = await openSource(clients, source);
  const maxRows = opts.maxRows ?? Infinity;
  if (opened.rowCount !== undefined) return Math.min(opened.rowCount, maxRows);
  let rows = 0;
  for await (const _ of opened.rows) if (++rows >= maxRows) break;
  return rows;
}

export interface PartRows {
  schema: Schema;
  eTag: string;
  rows: AsyncIterable<unknown[]>;
}

/**
 * The rows of one part, from `skipRows` on (a retried activity resumes after the shards it already
 * wrote). Skipped rows, and rows of a row group or CSV range that belong to a neighbouring part,
 * are decoded or parsed but never rendered or written.
 */
export async function openSourcePart(clients: DatasetClients, source: DatasetSource, part: InputPart, columns: string[], skipRows = 0): Promise<PartRows> {
  if (part.kind === 'whole') {
    const whole = await openSource(clients, source);
    return { ...whole, rows: rowWindow(whole.rows, skipRows) };
  }
  const leading = part.leadingRows ?? 0;
  if (part.kind === 'rowGroups') {
    const opened = await openParquetFiles(clients, source);
    const first = part.spans[0];
    const { schema } = await readParquetInfo(opened.blobs[first.file]);
    return { schema, eTag: opened.eTag, rows: rowGroupRows(opened.blobs, part.spans, { ...opened, rows: leading + part.rows, skipRows: leading + skipRows }) };
  }
  if (!('s3Uri' in source)) throw new Error(`a CSV range part needs an S3 source`);
  const uri = source.s3Uri;
  const head = await headObject(clients.s3, uri);
  if (!head) throw new DatasetError(`input object not found: ${uri}`);
  const schema = csvSchema(columns);
  const expectedRows = part.rangeRows ?? (part.truncated ? undefined : part.rows);
  const rows = {
    async *[Symbol.asyncIterator]() {
      const { body } = await openObjectStream(clients.s3, uri, { range: { start: part.startByte, end: part.endByte }, eTag: head.eTag });
      const parsed = openCsvRange(body, columns, uri, {
        firstLine: part.firstLine,
        firstByte: part.startByte,
        expectedRows,
        recordDelimiter: part.recordDelimiter as CsvRecordDelimiter | undefined,
      });
      // The range is parsed to its end when its row count is known, so that the count is checked.
      yield* rowWindow(parsed, leading + skipRows, leading + part.rows, expectedRows !== undefined);
    },
  };
  return { schema, eTag: head.eTag, rows };
}

async function openParquetFiles(
  clients: DatasetClients,
  source: DatasetSource,
): Promise<{ eTag: string; blobs: BlobLike[]; describeError: (file: number, err: unknown) => Error }> {
  if ('huggingFace' in source) return hubSplitBlobs(clients.hub, source.huggingFace);
  const uri = source.s3Uri;
  const head = await headObject(clients.s3, uri);
  if (!head) throw new DatasetError(`input object not found: ${uri}`);
  return {
    eTag: head.eTag,
    blobs: [s3RangeBlob(clients.s3, uri, head.size, { eTag: head.eTag })],
    describeError: (_file, err) => parquetReadError(uri, err),
  };
}

/** Rows `from`..`to`-1 of `rows`; with `readToEnd`, the rest is read (not yielded) instead of abandoned. */
async function* rowWindow(rows: AsyncIterable<unknown[]>, from: number, to = Infinity, readToEnd = false): AsyncGenerator<unknown[]> {
  let at = 0;
  for await (const row of rows) {
    if (at >= from && at < to) yield row;
    at += 1;
    if (at >= to && !readToEnd) return;
  }
}
