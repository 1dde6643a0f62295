/**
 * The outcome model: how a shard ended, how a run's totals add up, and what the run amounts to.
 * Pure, so the workflow and the activities count the same way.
 */
import { jobIdOfArn } from '../shared/jobNames';
import type { RunOutcome, RunTotals, ShardOutcome, ShardStatus } from '../shared/types';

export const MAX_SHARDS_LISTED = 20;

/** How long a shard waits for a job slot when neither the run nor the defaults file says (older runs). */
export const DEFAULT_QUOTA_WAIT_MINUTES = 360;

/** Records Bedrock takes in one job at the least; fewer unanswered records than this are not re-driven. */
export const MIN_RECORDS_PER_JOB = 100;

export function shardStatusOf(counts: { rows: number; succeeded: number }, notSubmitted = false): ShardStatus {
  if (notSubmitted) return 'not_submitted';
  if (counts.succeeded === counts.rows) return 'succeeded';
  return counts.succeeded > 0 ? 'partial' : 'failed';
}

/** The reason rows of a shard carry when no job answered them, from how its last job ended. */
export function unansweredReason(job: { jobArn?: string; status?: string } | undefined, attempts: number, maxAttempts: number): { code: string; message: string } {
  const id = job?.jobArn ? jobIdOfArn(job.jobArn) : undefined;
  const after = `after ${attempts} of ${maxAttempts} job attempt${maxAttempts === 1 ? '' : 's'}`;
  switch (job?.status) {
    case 'Stopped':
      return { code: 'JOB_STOPPED', message: `Bedrock job ${id} was stopped before answering this record (${after})` };
    case 'Expired':
      return { code: 'JOB_EXPIRED', message: `Bedrock job ${id} expired before it started (${after})` };
    case 'PartiallyCompleted':
      return { code: 'JOB_PARTIALLY_COMPLETED', message: `Bedrock job ${id} timed out before answering this record (${after})` };
    default:
      return { code: 'MISSING_OUTPUT', message: id ? `Bedrock job ${id} (${job?.status}) wrote no output line for this record (${after})` : 'no output line for this record' };
  }
}

function listShard(list: Array<{ shardIndex: number; message?: string }>, shardIndex: number, message?: string): void {
  if (list.length < MAX_SHARDS_LISTED) list.push({ shardIndex, message });
}

/** Adds one finished shard to the run's totals (older totals without the outcome fields count from 0). */
export function addShardOutcome(totals: RunTotals, o: ShardOutcome): void {
  totals.shardsDone += 1;
  totals.rows += o.rows;
  totals.succeeded += o.succeeded;
  totals.failed += o.failed;
  totals.inputTokens += o.inputTokens;
  totals.outputTokens += o.outputTokens;
  if (o.batchCostUsd !== undefined) totals.batchCostUsd = (totals.batchCostUsd ?? 0) + o.batchCostUsd;
  if (o.onDemand) {
    totals.onDemand ??= { answered: 0, rejected: 0, inputTokens: 0, outputTokens: 0 };
    const sum = totals.onDemand;
    sum.answered += o.onDemand.answered;
    sum.rejected += o.onDemand.rejected;
    sum.inputTokens += o.onDemand.inputTokens;
    sum.outputTokens += o.onDemand.outputTokens;
  }
  // Outcomes recorded before record errors were told apart count every failed row as unanswered.
  totals.recordErrors = (totals.recordErrors ?? 0) + (o.recordErrors ?? 0);
  totals.unanswered = (totals.unanswered ?? 0) + (o.unanswered ?? o.failed - (o.recordErrors ?? 0));
  const status: ShardStatus = o.status === 'failed' && o.succeeded > 0 ? 'partial' : o.status;
  if (status === 'succeeded') totals.shardsSucceeded = (totals.shardsSucceeded ?? 0) + 1;
  else if (status === 'partial') {
    totals.shardsPartial = (totals.shardsPartial ?? 0) + 1;
    totals.partialShards ??= [];
    listShard(totals.partialShards, o.shardIndex, o.message);
  } else if (status === 'not_submitted') totals.shardsNotSubmitted = (totals.shardsNotSubmitted ?? 0) + 1;
  else {
    totals.shardsFailed += 1;
    listShard(totals.failedShards, o.shardIndex, o.message);
  }
}

/**
 * Takes a shard's earlier outcome out of the run's totals and adds its new one: a shard collected
 * again (its gathered remainder answered) counts once, as it ended last.
 */
export function replaceShardOutcome(totals: RunTotals, before: ShardOutcome, after: ShardOutcome): void {
  totals.shardsDone -= 1;
  totals.rows -= before.rows;
  totals.succeeded -= before.succeeded;
  totals.failed -= before.failed;
  totals.inputTokens -= before.inputTokens;
  totals.outputTokens -= before.outputTokens;
  if (before.batchCostUsd !== undefined) totals.batchCostUsd = (totals.batchCostUsd ?? 0) - before.batchCostUsd;
  if (before.onDemand && totals.onDemand) {
    for (const key of ['answered', 'rejected', 'inputTokens', 'outputTokens'] as const) totals.onDemand[key] -= before.onDemand[key];
  }
  totals.recordErrors = (totals.recordErrors ?? 0) - (before.recordErrors ?? 0);
  totals.unanswered = (totals.unanswered ?? 0) - (before.unanswered ?? before.failed - (before.recordErrors ?? 0));
  const status: ShardStatus = before.status === 'failed' && before.succeeded > 0 ? 'partial' : before.status;
  const unlist = (list: Array<{ shardIndex: number }>) => {
    const at = list.findIndex((s) => s.shardIndex === before.shardIndex);
    if (at >= 0) list.splice(at, 1);
  };
  if (status === 'succeeded') totals.shardsSucceeded = (totals.shardsSucceeded ?? 0) - 1;
  else if (status === 'partial') {
    totals.shardsPartial = (totals.shardsPartial ?? 0) - 1;
    unlist(totals.partialShards ?? []);
  } else if (status === 'not_submitted') totals.shardsNotSubmitted = (totals.shardsNotSubmitted ?? 0) - 1;
  else {
    totals.shardsFailed -= 1;
    unlist(totals.failedShards);
  }
  addShardOutcome(totals, after);
}

/** Adds shards whose rows were written without a job (budget): every row unanswered. */
export function addNotSubmitted(totals: RunTotals, shards: number, rows: number): void {
  totals.shardsDone += shards;
  totals.shardsNotSubmitted = (totals.shardsNotSubmitted ?? 0) + shards;
  totals.rows += rows;
  totals.failed += rows;
  totals.unanswered = (totals.unanswered ?? 0) + rows;
}

export function runOutcome(totals: RunTotals, rowCount: number): { outcome: RunOutcome; reason: string } {
  const unanswered = totals.unanswered ?? totals.failed;
  const recordErrors = totals.recordErrors ?? 0;
  if (totals.rows !== rowCount) {
    return { outcome: 'incomplete', reason: `the output accounts for ${totals.rows} of ${rowCount} input rows` };
  }
  if (unanswered > 0) {
    const shards = [
      totals.shardsFailed ? `${totals.shardsFailed} failed` : '',
      totals.shardsPartial ? `${totals.shardsPartial} partial` : '',
      totals.shardsNotSubmitted ? `${totals.shardsNotSubmitted} not submitted` : '',
    ].filter(Boolean);
    return { outcome: 'incomplete', reason: `${unanswered} of ${rowCount} rows have no answer (shards: ${shards.join(', ') || 'none failed'})` };
  }
  if (recordErrors > 0) return { outcome: 'complete_with_errors', reason: `every row was answered; ${recordErrors} of ${rowCount} with a record error` };
  return { outcome: 'complete', reason: `all ${rowCount} rows answered` };
}
