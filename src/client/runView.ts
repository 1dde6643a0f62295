import { type PriceTable, costOf } from '../core/cost';
import type { BatchRunProgress, GatherProgress, RunSummary } from '../shared/types';
import type { RunStatus } from './api';
import { etaMs } from './format';
import type { RunHistoryFacts } from './runHistory';

/** One run as the CLI shows it, running or ended; built from the progress query or the summary. */
export interface RunView {
  workflowId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT. */
  status: string;
  phase?: string;
  modelId?: string;
  parts?: { done: number; total: number };
  shards?: { total: number; pending: number; running: number; succeeded: number; partial: number; failed: number; notSubmitted: number };
  rows?: { done: number; total?: number };
  tokens?: { input: number; output: number };
  /** Batch cost of the tokens so far; what preprocessing projected (output at max tokens); what the submitted jobs may cost at most. */
  costUsd?: number;
  estimateUsd?: number;
  committedUsd?: number;
  etaMs?: number;
  outcome?: string;
  outcomeReason?: string;
  failure?: { root: string; chain?: string };
  retrying?: RunStatus['retrying'];
  manifestUri?: string;
  /** Live settings (maxConcurrentJobs, pause, budget) and their recent changes, while the run runs. */
  controls?: BatchRunProgress['controls'];
  /** Running shards stuck on something (a job slot, a retrying submit): counts per state and the first few shards. */
  shardStates?: BatchRunProgress['shardStates'];
  /** Small remainders handed back for a pooled job: how many, which jobs, what became of them, a wait for a slot. */
  gather?: GatherProgress;
  /** Small remainders answered on demand, and what they cost at the on-demand price (billed on top of `costUsd`'s batch tokens). */
  onDemand?: { answered: number; rejected: number; costUsd?: number };
}

function shardsOfSummary(s: RunSummary): RunView['shards'] {
  const by = s.shardsByStatus ?? { succeeded: s.shards - s.failedShards.length, partial: 0, failed: s.failedShards.length, not_submitted: 0 };
  return { total: s.shards, pending: 0, running: 0, succeeded: by.succeeded, partial: by.partial, failed: by.failed, notSubmitted: by.not_submitted };
}

/** The view of a run: from its summary once it completed, its progress while it runs, its failure otherwise. */
export function runView(status: RunStatus, facts: RunHistoryFacts, prices: PriceTable, nowMs: number): RunView {
  const view: RunView = { workflowId: status.workflowId, status: status.status, modelId: facts.input?.modelId ?? facts.run?.modelId };
  const estimateUsd = facts.prepared?.estimate?.cost.batchCost;
  if (estimateUsd !== undefined) view.estimateUsd = estimateUsd;
  const s = status.summary;
  if (s) {
    return {
      ...view,
      phase: 'done',
      modelId: s.modelId,
      shards: shardsOfSummary(s),
      rows: { done: s.rows, total: s.rows },
      tokens: { input: s.inputTokens, output: s.outputTokens },
      // Small remainders answered on demand are billed on top, at the on-demand price.
      costUsd: s.cost.batchCost === undefined ? undefined : s.cost.batchCost + (s.onDemand?.cost.onDemandCost ?? 0),
      estimateUsd: s.estimate?.cost.batchCost ?? view.estimateUsd,
      outcome: s.outcome,
      outcomeReason: s.outcomeReason,
      manifestUri: s.manifestUri,
      ...(s.onDemand ? { onDemand: { answered: s.onDemand.answered, rejected: s.onDemand.rejected, costUsd: s.onDemand.cost.onDemandCost } } : {}),
    };
  }
  if (status.failure !== undefined) view.failure = { root: status.failure, chain: status.causeChain };
  const p = status.progress;
  if (!p) return view;
  const t = p.totals;
  view.phase = p.phase;
  if (p.partsTotal !== undefined) view.parts = { done: p.partsDone ?? 0, total: p.partsTotal };
  const shardCount = p.shardCount ?? facts.prepared?.shardCount;
  if (shardCount !== undefined) {
    view.shards = {
      total: shardCount,
      pending: Math.max(0, shardCount - p.shardsStarted),
      running: p.shardsRunning,
      succeeded: t.shardsSucceeded ?? t.shardsDone - t.shardsFailed,
      partial: t.shardsPartial ?? 0,
      failed: t.shardsFailed,
      notSubmitted: t.shardsNotSubmitted ?? 0,
    };
    const since = facts.runningSince;
    if (since) view.etaMs = etaMs(t.shardsDone - since.shardsDone, shardCount - since.shardsDone, nowMs - since.timeMs);
  }
  view.rows = { done: t.rows, total: p.rowCount ?? facts.prepared?.rowCount };
  view.tokens = { input: t.inputTokens, output: t.outputTokens };
  // The run's own tally of finished shards at the batch price when it keeps one; else priced here.
  view.costUsd = t.batchCostUsd ?? (view.modelId ? costOf(prices, view.modelId, t.inputTokens, t.outputTokens).batchCost : undefined);
  if (t.committedCostUsd !== undefined) view.committedUsd = t.committedCostUsd;
  if (p.shardStates) view.shardStates = p.shardStates;
  if (p.gather) view.gather = p.gather;
  if (t.onDemand) {
    // The run keeps on-demand tokens, not their cost: priced here, as the summary will price them.
    const costUsd = view.modelId ? costOf(prices, view.modelId, t.onDemand.inputTokens, t.onDemand.outputTokens).onDemandCost : undefined;
    view.onDemand = { answered: t.onDemand.answered, rejected: t.onDemand.rejected, costUsd };
  }
  if (p.controls) view.controls = p.controls;
  view.retrying = status.retrying;
  return view;
}
