import type { Schema } from 'apache-arrow';
import { compileTemplate, parseTemplate } from '../core/template';
import { JsonlTemplate, compileJsonlTemplate, stringifiedLine } from '../core/jsonlTemplate';
import { recordIdForRow } from '../core/recordId';
import { SampledTokenEstimate } from '../core/tokenEstimate';
import { BEDROCK_LIMITS, ShardSequencer, ShardSink, ShardSummary } from '../core/shardPlan';
import { InputLimit, RECORD_TOO_LARGE, Rejection, checkInputLimit, fileLimitRejection, limitNeedsPrompt } from '../core/inputLimit';
import { loadBatchCatalog } from '../models/batchCatalog';
import { resolveModelAdapter } from '../models/registry';
import { tokenCounterFor } from '../tokens';
import { ResolvedRun } from '../shared/types';
import { InputError } from './failures';

/** Prompts counted one by one at the start of an input before sampling begins. */
const TOKEN_WARMUP = 1000;
const PART_TOKEN_WARMUP = 20;
const PART_TOKEN_SAMPLES = 200;

export interface ScannedRecord {
  recordId: string;
  row: unknown[];
  /** The Bedrock JSONL line of this record. */
  line: string;
  /** UTF-8 bytes of `line`. */
  bytes: number;
  inputTokens: number;
  /**
   * Set when the record cannot be sent (over the model's input limit or the file limit): it goes to
   * the shard's input snapshot and its sidecar of rejected records, not to the JSONL (`line` is
   * empty, `bytes` and `inputTokens` 0).
   */
  rejected?: Rejection;
}

export interface ScanResult {
  schema: Schema;
  rowCount: number;
  shards: ShardSummary[];
  inputTokens: number;
  /** Rows kept out of the jobs as RECORD_TOO_LARGE. */
  rejected: number;
  tokenizer: { kind: string; exact: boolean; note: string };
}

export interface ScanOptions {
  /** Count every prompt with the tokenizer instead of a sample (slow on big data). */
  exactTokens?: boolean;
  onProgress?: (rows: number) => void;
}

export interface RowScanOptions extends ScanOptions {
  /** Position of the first row in the whole input: record ids are row positions. */
  firstRow: number;
  /** Record counts of the shards to cut, in order, as planned from the row count before reading. */
  shards: Iterable<number>;
  /** Stop after this many rows. */
  maxRows?: number;
}

/** Adds up each shard's input tokens on the way to another sink (or to none, for an estimate). */
export class ShardTokenTally implements ShardSink<ScannedRecord> {
  readonly tokens: number[] = [];
  /** Rows of each shard kept out of its job (RECORD_TOO_LARGE). */
  readonly rejected: number[] = [];
  constructor(private readonly inner?: ShardSink<ScannedRecord>) {}
  async write(shard: number, item: ScannedRecord): Promise<void> {
    this.tokens[shard] = (this.tokens[shard] ?? 0) + item.inputTokens;
    if (item.rejected) this.rejected[shard] = (this.rejected[shard] ?? 0) + 1;
    await this.inner?.write(shard, item);
  }
  async close(shard: number): Promise<void> {
    await this.inner?.close(shard);
  }
}

/** Fails when the source is not the version the run resolved (its ETag changed since). */
export function checkSameInput(run: ResolvedRun, eTag: string): void {
  if (eTag !== run.inputETag) {
    throw new InputError('InputChangedError', `${run.inputUri} changed since the run started (ETag ${run.inputETag} → ${eTag}); start a new run`);
  }
}

/**
 * A record's JSONL line, or undefined when it is longer than a JS string can be (V8 stops near
 * 512 M characters): far over the file limit either way, so it is rejected, not a crash.
 */
function jsonlLine(recordId: string, body: () => unknown): string | undefined {
  try {
    return stringifiedLine(recordId, body());
  } catch (err) {
    if (err instanceof RangeError) return undefined;
    throw err;
  }
}

/**
 * The fast path's line; null when it declines the row (or the run), undefined when the line is
 * longer than a JS string can be (as jsonlLine).
 */
function fastLine(fast: JsonlTemplate | undefined, recordId: string, row: ReadonlyArray<unknown>): string | undefined | null {
  if (!fast) return null;
  try {
    return fast.line(recordId, row) ?? null;
  } catch (err) {
    if (err instanceof RangeError) return undefined;
    throw err;
  }
}

function tooLongToEncode(): Rejection {
  return { code: RECORD_TOO_LARGE, message: `record is too long to encode as one JSONL line (over 512 M characters), over the 1 GB limit of a Bedrock input file` };
}

/** The input limit the run's records are held to, from the batch catalog (none when it gives no figure). */
export function inputLimitOf(run: ResolvedRun): InputLimit | undefined {
  const spec = loadBatchCatalog().inputLimit(run.modelId, run.modelParams.truncate);
  return spec && { modelId: run.modelId, maxTokens: spec.maxTokens, maxChars: spec.maxChars };
}

/**
 * Renders each row into the model's request body and hands the records, cut into Bedrock-sized
 * shards, to `sink` in shard order. Preprocessing passes a sink that writes S3 files; the
 * estimate passes one that only adds up. Both see exactly the same records and shards.
 */
export async function scanRows(
  run: ResolvedRun,
  schema: Schema,
  rows: AsyncIterable<unknown[]>,
  sink: ShardSink<ScannedRecord>,
  opts: RowScanOptions,
): Promise<ScanResult> {
  const adapter = resolveModelAdapter(run.modelId, run.invocationType);
  const counter = tokenCounterFor(run.modelId);
  // The warmup (every prompt counted) keeps small inputs exact; a part starting past it belongs to an
  // input that is sampled anyway, where the first part's 1,000 warmup and 1,000 sampled counts cost
  // ~1.5 s a part (~0.7 ms a 2.6 KB prompt), ~10 s at 2.2 M rows. Such a part takes a short warmup
  // (the ratio is set before its first sample) and fewer samples: hundreds of prompts pin its ratio.
  const laterPart = opts.firstRow >= TOKEN_WARMUP;
  const tokens = laterPart
    ? new SampledTokenEstimate((t) => counter.count(t), PART_TOKEN_WARMUP, opts.exactTokens ? 1 : 50, PART_TOKEN_SAMPLES)
    : new SampledTokenEstimate((t) => counter.count(t), TOKEN_WARMUP, opts.exactTokens ? 1 : 50);
  const systemTokens = run.modelParams.system ? counter.count(run.modelParams.system) : 0;
  const columns = schema.fields.map((f) => f.name);
  const render =
    run.task === 'text'
      ? compileTemplate(run.template!, columns)
      : ((index: number) => (row: ReadonlyArray<unknown>) => (row[index] === null || row[index] === undefined ? '' : String(row[index])))(
          columns.indexOf(run.textColumn!),
        );
  // Lines from pre-escaped pieces where the adapter allows (see jsonlTemplate.ts); `render` and
  // JSON.stringify remain for the rows (and adapters) it declines.
  const fast = compileJsonlTemplate(
    run.task === 'text' ? parseTemplate(run.template!) : [{ key: run.textColumn! }],
    (key) => columns.indexOf(key),
    (prompt) => adapter.buildRequest(prompt, run.modelParams),
  );
  const limit = inputLimitOf(run);
  let rejectedRows = 0;
  const sequencer = new ShardSequencer<ScannedRecord>({ ...BEDROCK_LIMITS, maxRecords: run.maxRecordsPerJob }, sink, opts.shards);
  let rowCount = 0;
  const iterator = rows[Symbol.asyncIterator]();
  try {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      const row = next.value;
      if (opts.maxRows !== undefined && rowCount >= opts.maxRows) break;
      const recordId = recordIdForRow(opts.firstRow + rowCount);
      let prompt: string | undefined;
      const promptText = () => (prompt ??= render(row));
      let line = fastLine(fast, recordId, row);
      if (line === null) line = jsonlLine(recordId, () => adapter.buildRequest(promptText(), run.modelParams));
      const bytes = line === undefined ? 0 : Buffer.byteLength(line);
      const promptLength = prompt?.length ?? fast?.promptLength(row) ?? promptText().length;
      const rejected =
        (line === undefined ? tooLongToEncode() : undefined) ||
        (limit && limitNeedsPrompt(promptLength, bytes, limit) && checkInputLimit(promptText(), bytes, limit, counter, systemTokens)) ||
        (bytes > BEDROCK_LIMITS.maxFileBytes ? fileLimitRejection(bytes, BEDROCK_LIMITS.maxFileBytes) : undefined);
      if (rejected) {
        // Still a row of its shard (its snapshot keeps the input columns), but nothing of it is sent or counted.
        rejectedRows += 1;
        await sequencer.push({ recordId, row, line: '', bytes: 0, inputTokens: 0, rejected }, 0);
      } else {
        await sequencer.push({ recordId, row, line: line!, bytes, inputTokens: tokens.addLazy(promptLength, promptText) + systemTokens }, bytes);
      }
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
    inputTokens: tokens.total() + systemTokens * (rowCount - rejectedRows),
    rejected: rejectedRows,
    tokenizer: { kind: counter.kind, exact: counter.exact && tokens.exact(), note: counter.note },
  };
}
