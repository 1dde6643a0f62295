import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { openObjectStream } from '../io/s3';
import { readLineBatches } from '../io/lineSplitter';
import { resolveModelAdapter } from '../models/registry';
import { onDemandOutputPrefix } from '../shared/paths';
import type { ResolvedRun } from '../shared/types';
import type { ActivityDeps } from './deps';
import { progressHeartbeat } from './heartbeat';
import { callOnDemand } from './onDemandCall';
import { OnDemandChunk, onDemandRecordIds, writeOnDemandChunk } from './onDemandOutputs';

export interface OnDemandRequest {
  run: Pick<ResolvedRun, 'runUri' | 'modelId' | 'invocationType' | 'onDemandRequestsPerSecond'>;
  shardIndex: number;
  /** JSONL of the records no job answered (prepareRedrive's file): each line's modelInput is the request body. */
  inputUri: string;
}

export interface OnDemandResult {
  /** Records called now, and those a previous attempt had already answered (not called again). */
  called: number;
  skipped: number;
  answered: number;
  rejected: number;
}

/** Answers are written at least this often (records, or ms since the oldest unwritten one), so a crashed worker loses at most that much paid work. */
const CHUNK_RECORDS = 10;
const CHUNK_MS = 2000;
/** Calls in flight at once: a model's answer takes seconds, so pacing alone would run far below the rate. */
const MAX_IN_FLIGHT = 4;

interface Pending {
  recordId: string;
  modelInput: unknown;
}

/** Waits so call starts are at least 1/rate apart, across all callers. */
function pacer(perSecond: number): () => Promise<void> {
  const gapMs = 1000 / perSecond;
  let next = 0;
  return async () => {
    const now = Date.now();
    const at = Math.max(now, next);
    next = at + gapMs;
    if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
  };
}

async function readRemainder(deps: ActivityDeps, inputUri: string, skip: Set<string>): Promise<Pending[]> {
  const todo: Pending[] = [];
  for await (const batch of readLineBatches((await openObjectStream(deps.s3, inputUri)).body)) {
    for (const line of batch) {
      if (!line.length) continue;
      const record = JSON.parse(line.toString('utf8')) as { recordId: unknown; modelInput: unknown };
      const recordId = String(record.recordId);
      if (!skip.has(recordId)) todo.push({ recordId, modelInput: record.modelInput });
    }
  }
  return todo;
}

/**
 * Answers a shard's small remainder with InvokeModel or Converse (the run's invocationType) at
 * the run's bounded rate, writing batch-shaped output lines in chunks under the shard's on-demand
 * prefix, where collectShard reads them after the jobs' lines. A retry skips every record that
 * already has a line, so nothing answered is paid for twice.
 */
export function makeOnDemand(deps: ActivityDeps) {
  async function answerOnDemand(req: OnDemandRequest): Promise<OnDemandResult> {
    const client = deps.bedrockRuntime;
    if (!client) throw ApplicationFailure.create({ type: 'OnDemandRefused', nonRetryable: true, message: 'this worker has no Bedrock runtime client for on-demand calls' });
    const { run } = req;
    const prefix = onDemandOutputPrefix(run.runUri, req.shardIndex);
    const done = await onDemandRecordIds(deps.s3, prefix);
    const todo = await readRemainder(deps, req.inputUri, done);
    const adapter = resolveModelAdapter(run.modelId, run.invocationType);
    let abortSignal: AbortSignal | undefined;
    try {
      abortSignal = Context.current().cancellationSignal;
    } catch {
      abortSignal = undefined; // called outside an activity (tests)
    }
    const result: OnDemandResult = { called: 0, skipped: done.size, answered: 0, rejected: 0 };
    const heartbeat = progressHeartbeat();
    let pending: OnDemandChunk = { recordIds: [], lines: [], inputTokens: 0, outputTokens: 0 };
    let oldestPending = 0;
    let writes = Promise.resolve();
    const flush = () => {
      if (pending.recordIds.length) {
        const chunk = pending;
        pending = { recordIds: [], lines: [], inputTokens: 0, outputTokens: 0 };
        writes = writes.then(() => writeOnDemandChunk(deps.s3, prefix, chunk));
      }
      return writes;
    };
    // Heartbeats and age-based flushes go on while a slow call is outstanding.
    const ticker = setInterval(() => {
      heartbeat(result);
      if (pending.recordIds.length && Date.now() - oldestPending >= CHUNK_MS) flush().catch(() => undefined);
    }, 1000);
    const pace = pacer(run.onDemandRequestsPerSecond ?? 1);
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (!failed && next < todo.length) {
        const record = todo[next++];
        await pace();
        if (failed) return;
        result.called += 1;
        const answer = await callOnDemand(client, { modelId: run.modelId, invocationType: run.invocationType, modelInput: record.modelInput, adapter, abortSignal });
        const { recordId, modelInput } = record;
        if (!pending.recordIds.length) oldestPending = Date.now();
        pending.recordIds.push(recordId);
        if (answer.ok) {
          result.answered += 1;
          pending.inputTokens += answer.inputTokens;
          pending.outputTokens += answer.outputTokens;
          pending.lines.push(JSON.stringify({ recordId, modelInput, modelOutput: answer.modelOutput }));
        } else {
          result.rejected += 1;
          pending.lines.push(JSON.stringify({ recordId, modelInput, error: { errorCode: answer.errorCode, errorMessage: answer.errorMessage } }));
        }
        if (pending.recordIds.length >= CHUNK_RECORDS) flush().catch(() => undefined);
        heartbeat(result);
      }
    };
    try {
      const workers = Array.from({ length: Math.min(MAX_IN_FLIGHT, todo.length) }, () =>
        worker().catch((err) => {
          failed = true;
          throw err;
        }),
      );
      const settled = await Promise.allSettled(workers);
      const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      // What was answered before a failure is paid for: it is written before the failure is reported.
      await flush();
      if (rejected) throw rejected.reason;
    } finally {
      clearInterval(ticker);
    }
    return result;
  }

  return { answerOnDemand };
}
