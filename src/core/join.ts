import { RecordBatch, Schema } from 'apache-arrow';
import { float32ListData, int32Data, recordBatchOf, utf8Data } from '../io/arrowColumns';
import { Task } from '../models/types';
import { RecordResult } from './outputLine';
import { RECORD_ID, outputSchema } from './outputSchema';

export interface JoinCounts {
  rows: number;
  succeeded: number;
  failed: number;
  inputTokens: number;
  outputTokens: number;
}

export const MISSING_OUTPUT = 'MISSING_OUTPUT';

/**
 * Joins one batch of a shard's input snapshot to the shard's results by record id (Bedrock does
 * not keep line order). Every input row comes out once: a row with no result line gets
 * `error_code` MISSING_OUTPUT, or the given failure when the whole job failed.
 */
export function joinBatch(
  snapshot: RecordBatch,
  results: ReadonlyMap<string, RecordResult>,
  task: Task,
  jobId: string | undefined,
  counts: JoinCounts,
  jobFailure?: { code: string; message: string },
): RecordBatch {
  const schema: Schema = outputSchema(snapshot.schema, task);
  const idColumn = snapshot.getChild(RECORD_ID);
  if (!idColumn) throw new Error(`input snapshot has no ${RECORD_ID} column`);
  const n = snapshot.numRows;
  const values: Array<string | null> = new Array(n);
  const vectors: Array<Float32Array | null> = new Array(n);
  const stop: Array<string | null> = new Array(n);
  const inTok: Array<number | null> = new Array(n);
  const outTok: Array<number | null> = new Array(n);
  const errCode: Array<string | null> = new Array(n);
  const errMsg: Array<string | null> = new Array(n);
  const ids: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const id = String(idColumn.get(i));
    ids[i] = id;
    const r = results.get(id);
    const failure = r ? undefined : (jobFailure ?? { code: MISSING_OUTPUT, message: 'no output line for this record' });
    values[i] = r?.text ?? null;
    vectors[i] = r?.embedding ?? null;
    stop[i] = r?.stopReason ?? null;
    inTok[i] = r?.inputTokens ?? null;
    outTok[i] = r?.outputTokens ?? null;
    errCode[i] = r?.errorCode ?? failure?.code ?? null;
    errMsg[i] = r?.errorMessage ?? failure?.message ?? null;
    if (errCode[i] === null) counts.succeeded += 1;
    else counts.failed += 1;
    counts.inputTokens += inTok[i] ?? 0;
    counts.outputTokens += outTok[i] ?? 0;
  }
  counts.rows += n;
  const inputData = snapshot.schema.fields.flatMap((f, i) => (f.name === RECORD_ID ? [] : [snapshot.data.children[i]]));
  const valueData = task === 'embedding' ? float32ListData(vectors) : utf8Data(values);
  const jobIds = new Array<string | null>(n).fill(jobId ?? null);
  return recordBatchOf(schema, [
    ...inputData,
    valueData,
    utf8Data(stop),
    int32Data(inTok),
    int32Data(outTok),
    utf8Data(errCode),
    utf8Data(errMsg),
    utf8Data(ids),
    utf8Data(jobIds),
  ]);
}
