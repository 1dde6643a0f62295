import type { Schema } from 'apache-arrow';
import { PartPlanLimits, RowGroupLayout, planCsvParts, planRowGroupParts } from '../core/partPlan';
import type { DatasetSource, InputPart, PreparePlan } from '../shared/types';
import type { BlobLike } from './blob';
import { CsvRecordDelimiter, openCsvRange, scanCsvBoundaries } from './csvSplit';
import { DatasetClients, DatasetError, csvSchema, datasetFormat, openSource } from './dataset';
import { rowGroupRows } from './parquetRows';
import { hubSplitBlobs, readHubRowGroupLayout } from './huggingface';
import { readParquetInfo } from './parquetRead';
import { headObject, openObjectStream, s3RangeBlob } from './s3';

/**
 * Cuts a source into preprocessing parts: Parquet (S3 or the Hub) by whole row groups from the
 * footers; a CSV larger than one part by a quote-aware scan for record boundaries, which also
 * counts its rows; a smaller CSV is one part read whole.
 */
export async function planSourceParts(clients: DatasetClients, source: DatasetSource, limits: PartPlanLimits): Promise<PreparePlan & { eTag: string }> {
  if ('huggingFace' in source) {
    const layout = await readHubRowGroupLayout(clients.hub, source.huggingFace);
    return withRowCount(layout.eTag, planRowGroupParts(layout.files, limits));
  }
  const uri = source.s3Uri;
  const head = await headObject(clients.s3, uri);
  if (!head) throw new DatasetError(`input object not found: ${uri}`);
  if (datasetFormat(uri) === 'parquet') {
    const info = await readParquetInfo(s3RangeBlob(clients.s3, uri, head.size, { eTag: head.eTag })).catch((err: Error) => {
      throw new DatasetError(`${uri}: not a readable Parquet file: ${err.message}`);
    });
    const groups: RowGroupLayout[] = info.rowGroups.map((g) => ({ rows: g.numRows, bytes: g.totalByteSize }));
    return withRowCount(head.eTag, planRowGroupParts([groups], limits));
  }
  // A small CSV, or a trial on its first rows, is read in one pass that can stop early.
  const whole: PreparePlan & { eTag: string } = { eTag: head.eTag, parts: [{ index: 0, kind: 'whole', firstRow: 0 }] };
  if (head.size <= limits.partBytes || limits.maxRows !== undefined) return whole;
  const { body } = await openObjectStream(clients.s3, uri, { eTag: head.eTag });
  const scan = await scanCsvBoundaries(body, { targetPartBytes: limits.partBytes });
  if (scan.unsplittable || scan.totalRows < 0 || !scan.recordDelimiter) return whole;
  const recordDelimiter = scan.recordDelimiter;
  return withRowCount(head.eTag, planCsvParts(scan.parts, limits).map((p) => ({ ...p, recordDelimiter })));
}

function withRowCount(eTag: string, parts: InputPart[]): PreparePlan & { eTag: string } {
  return { eTag, parts, rowCount: parts.reduce((n, p) => n + (p.rows ?? 0), 0) };
}

export interface PartRows {
  schema: Schema;
  eTag: string;
  /** Rows the part holds, when known before reading. */
  rowCount?: number;
  rows: AsyncIterable<unknown[]>;
}

/**
 * The rows of one part, from `skipRows` on (a retried activity resumes after the shards it already
 * wrote). Skipped rows are decoded or parsed but never rendered or written.
 */
export async function openSourcePart(clients: DatasetClients, source: DatasetSource, part: InputPart, columns: string[], skipRows = 0): Promise<PartRows> {
  if (part.kind === 'whole') {
    const whole = await openSource(clients, source);
    return { ...whole, rows: skipping(whole.rows, skipRows) };
  }
  if (part.kind === 'rowGroups') {
    const opened = await openParquetFiles(clients, source);
    const first = part.spans[0];
    const { schema } = await readParquetInfo(opened.blobs[first.file]);
    return { schema, eTag: opened.eTag, rowCount: part.rows, rows: rowGroupRows(opened.blobs, part.spans, { ...opened, rows: part.rows, skipRows }) };
  }
  if (!('s3Uri' in source)) throw new Error(`a CSV range part needs an S3 source`);
  const uri = source.s3Uri;
  const head = await headObject(clients.s3, uri);
  if (!head) throw new DatasetError(`input object not found: ${uri}`);
  const schema = csvSchema(columns);
  const rows = {
    async *[Symbol.asyncIterator]() {
      const { body } = await openObjectStream(clients.s3, uri, { range: { start: part.startByte, end: part.endByte }, eTag: head.eTag });
      const parsed = openCsvRange(body, columns, uri, {
        firstLine: part.firstLine,
        expectedRows: part.truncated ? undefined : part.rows,
        recordDelimiter: part.recordDelimiter as CsvRecordDelimiter | undefined,
      });
      yield* skipping(parsed, skipRows);
    },
  };
  return { schema, eTag: head.eTag, rowCount: part.rows, rows };
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
    describeError: (_file, err) => (err instanceof DatasetError ? err : new DatasetError(`${uri}: not a readable Parquet file: ${(err as Error).message}`)),
  };
}

async function* skipping(rows: AsyncIterable<unknown[]>, skip: number): AsyncGenerator<unknown[]> {
  let seen = 0;
  for await (const row of rows) {
    if (seen++ < skip) continue;
    yield row;
  }
}
