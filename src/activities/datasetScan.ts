import type { Schema } from 'apache-arrow';
import { DatasetClients, openSource } from '../io/dataset';
import { compileTemplate } from '../core/template';
import { recordIdForRow } from '../core/recordId';
import { SampledTokenEstimate } from '../core/tokenEstimate';
import { BEDROCK_LIMITS, ShardSequencer, ShardSink, ShardSummary } from '../core/shardPlan';
import { resolveModelAdapter } from '../models/registry';
import { tokenCounterFor } from '../tokens';
import { ResolvedRun } from '../shared/types';
import { InputError } from './failures';

export interface ScannedRecord {
  recordId: string;
  row: unknown[];
  /** The Bedrock JSONL line of this record. */
  line: string;
  inputTokens: number;
}

export interface ScanResult {
  schema: Schema;
  rowCount: number;
  shards: ShardSummary[];
  inputTokens: number;
  tokenizer: { kind: string; exact: boolean; note: string };
}

export interface ScanOptions {
  /** Count every prompt with the tokenizer instead of a sample (slow on big data). */
  exactTokens?: boolean;
  onProgress?: (rows: number) => void;
}

/**
 * One streaming pass over the dataset: each row is rendered into the model's request body and
 * handed, in shard order, to `sink`. Preprocessing passes a sink that writes S3 files; the
 * estimate passes one that only adds up. Both see exactly the same records and shards.
 */
export async function scanDataset(
  clients: DatasetClients,
  run: ResolvedRun,
  sinkFor: (schema: Schema) => ShardSink<ScannedRecord>,
  opts: ScanOptions = {},
): Promise<ScanResult> {
  const adapter = resolveModelAdapter(run.modelId, run.invocationType);
  const counter = tokenCounterFor(run.modelId);
  const tokens = new SampledTokenEstimate((t) => counter.count(t), 1000, opts.exactTokens ? 1 : 50);
  const systemTokens = run.modelParams.system ? counter.count(run.modelParams.system) : 0;

  const { schema, eTag, rows, rowCount: knownRows } = await openSource(clients, run.source);
  if (eTag !== run.inputETag) {
    throw new InputError('InputChangedError', `${run.inputUri} changed since the run started (ETag ${run.inputETag} → ${eTag}); start a new run`);
  }
  const columns = schema.fields.map((f) => f.name);
  const render =
    run.task === 'text'
      ? compileTemplate(run.template!, columns)
      : ((index: number) => (row: ReadonlyArray<unknown>) => (row[index] === null || row[index] === undefined ? '' : String(row[index])))(
          columns.indexOf(run.textColumn!),
        );

  // With the row count known (Parquet), shards come out evenly sized instead of full ones and a remainder.
  const expected = knownRows === undefined ? undefined : Math.min(knownRows, run.maxRecords ?? knownRows);
  const sequencer = new ShardSequencer<ScannedRecord>({ ...BEDROCK_LIMITS, maxRecords: run.maxRecordsPerJob }, sinkFor(schema), expected);
  let rowCount = 0;
  const iterator = rows[Symbol.asyncIterator]();
  try {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      const row = next.value;
      if (run.maxRecords !== undefined && rowCount >= run.maxRecords) break;
      const recordId = recordIdForRow(rowCount);
      const prompt = render(row);
      const line = `${JSON.stringify({ recordId, modelInput: adapter.buildRequest(prompt, run.modelParams) })}\n`;
      await sequencer.push({ recordId, row, line, inputTokens: tokens.add(prompt) + systemTokens }, Buffer.byteLength(line));
      rowCount += 1;
      if (rowCount % 5000 === 0) opts.onProgress?.(rowCount);
    }
  } finally {
    // Stops the download when maxRecords (or an error) ends the scan early.
    await iterator.return?.();
  }
  const shards = await sequencer.finish();
  return {
    schema,
    rowCount,
    shards,
    inputTokens: tokens.total() + systemTokens * rowCount,
    tokenizer: { kind: counter.kind, exact: counter.exact && tokens.exact(), note: counter.note },
  };
}
