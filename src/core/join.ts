import { Data, DataType, RecordBatch, Schema } from 'apache-arrow';
import { float32ListData, int32Data, recordBatchOf, utf8Data } from '../io/arrowColumns';
import { Task } from '../models/types';
import { RecordResult } from './outputLine';
import { RECORD_ID, outputSchema } from './outputSchema';

export interface JoinCounts {
  rows: number;
  succeeded: number;
  failed: number;
  /** Of `failed`: rows whose output line is a record error, and rows with no line at all. */
  recordErrors: number;
  unanswered: number;
  inputTokens: number;
  outputTokens: number;
}

export const MISSING_OUTPUT = 'MISSING_OUTPUT';

/**
 * Joins one batch of a shard's input snapshot to the shard's results by record id (Bedrock does
 * not keep line order). Every input row comes out once: a row with no result line gets
 * `unanswered` as its error (why no job answered it), MISSING_OUTPUT when none is given.
 */
export function joinBatch(
  snapshot: RecordBatch,
  results: ReadonlyMap<string, RecordResult>,
  task: Task,
  jobId: string | undefined,
  counts: JoinCounts,
  unanswered?: { code: string; message: string },
): RecordBatch {
  const schema: Schema = outputSchema(snapshot.schema, task);
  const idIndex = snapshot.schema.fields.findIndex((f) => f.name === RECORD_ID);
  if (idIndex < 0) throw new Error(`input snapshot has no ${RECORD_ID} column`);
  const idData = snapshot.data.children[idIndex];
  const n = snapshot.numRows;
  const ids = recordIds(snapshot, idIndex);
  const values: Array<string | null> = new Array(n);
  const vectors: Array<Float32Array | null> = new Array(n);
  const stop: Array<string | null> = new Array(n);
  const inTok: Array<number | null> = new Array(n);
  const outTok: Array<number | null> = new Array(n);
  const errCode: Array<string | null> = new Array(n);
  const errMsg: Array<string | null> = new Array(n);
  const jobIds: Array<string | null> = new Array(n);
  const missing = unanswered ?? { code: MISSING_OUTPUT, message: 'no output line for this record' };
  for (let i = 0; i < n; i++) {
    const r = results.get(ids[i]);
    const failure = r ? undefined : missing;
    jobIds[i] = r?.jobId ?? jobId ?? null;
    values[i] = r?.text ?? null;
    vectors[i] = r?.embedding ?? null;
    stop[i] = r?.stopReason ?? null;
    inTok[i] = r?.inputTokens ?? null;
    outTok[i] = r?.outputTokens ?? null;
    errCode[i] = r?.errorCode ?? failure?.code ?? null;
    errMsg[i] = r?.errorMessage ?? failure?.message ?? null;
    if (errCode[i] === null) counts.succeeded += 1;
    else {
      counts.failed += 1;
      if (r) counts.recordErrors += 1;
      else counts.unanswered += 1;
    }
    counts.inputTokens += inTok[i] ?? 0;
    counts.outputTokens += outTok[i] ?? 0;
  }
  counts.rows += n;
  const inputData = snapshot.schema.fields.flatMap((f, i) => (f.name === RECORD_ID ? [] : [snapshot.data.children[i]]));
  const valueData = task === 'embedding' ? float32ListData(vectors) : utf8Data(values);
  return recordBatchOf(schema, [
    ...inputData,
    valueData,
    utf8Data(stop),
    int32Data(inTok),
    int32Data(outTok),
    utf8Data(errCode),
    utf8Data(errMsg),
    // The snapshot's own record_id column, not re-encoded.
    DataType.isUtf8(idData.type) && idData.nullCount === 0 ? idData : utf8Data(ids),
    utf8Data(jobIds),
  ]);
}

/** The record ids of a snapshot batch, decoded straight from the Utf8 buffers (Vector.get is slow). */
function recordIds(snapshot: RecordBatch, idIndex: number): string[] {
  const data = snapshot.data.children[idIndex];
  const n = data.length;
  const ids: string[] = new Array(n);
  if (DataType.isUtf8(data.type) && data.nullCount === 0 && data.valueOffsets && data.values) {
    const offsets = data.valueOffsets as Int32Array;
    const bytes = data.values as Uint8Array;
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) ids[i] = buf.toString('utf8', offsets[i], offsets[i + 1]);
    return ids;
  }
  const column = snapshot.getChildAt(idIndex)!;
  for (let i = 0; i < n; i++) ids[i] = String(column.get(i));
  return ids;
}

/**
 * Approximate bytes of a column's rows in Arrow form (offsets, values, validity), for slices too
 * (a zero-copy slice keeps its parent's value buffers, so Data.byteLength would overcount).
 */
export function estimateDataBytes(data: Data): number {
  const n = data.length;
  let bytes = data.nullCount > 0 ? Math.ceil(n / 8) : 0;
  const offsets = data.valueOffsets as ArrayLike<number> | undefined;
  if (offsets && offsets.length > n && (DataType.isUtf8(data.type) || DataType.isBinary(data.type) || DataType.isList(data.type))) {
    const span = Number(offsets[n]) - Number(offsets[0]);
    bytes += 4 * (n + 1);
    if (DataType.isList(data.type)) {
      const child = data.children[0];
      bytes += child?.length ? Math.round((estimateDataBytes(child) * span) / child.length) : 0;
    } else bytes += span;
    return bytes;
  }
  if (data.children.length) return bytes + data.children.reduce((sum, c) => sum + estimateDataBytes(c), 0);
  const values = data.values as { BYTES_PER_ELEMENT?: number } | undefined;
  return bytes + (values?.BYTES_PER_ELEMENT ?? 1) * n * ((data as unknown as { stride?: number }).stride ?? 1);
}

export function estimateBatchBytes(batch: RecordBatch): number {
  return batch.data.children.reduce((sum, c) => sum + estimateDataBytes(c), 0);
}
