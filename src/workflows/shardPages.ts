import { CancellationScope, type ChildWorkflowHandle, ParentClosePolicy, condition, isCancellation, log, patched, startChild, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { MAX_SHARDS_LISTED, addShardOutcome } from '../core/outcome';
import { rootMessage } from '../shared/errors';
import type { BatchRunContinuation, BatchRunProgress, BudgetStop, PreparedShards, ResolvedRun, RunTotals, ShardJobInput } from '../shared/types';
import { REDRIVE_PATCH, bedrockJob } from './bedrockJob';
import type { RemainderGather } from './gatherRemainders';
import { collecting } from './jobActivities';
import type { RunBoard } from './runBoard';
import type { RunControls } from './runControls';
import { ROLLING_PATCH, ShardWindow } from './shardWindow';

/** Marks histories in which a shard whose id is taken (after a reset) starts under this run's own id. */
const RESET_PATCH = 'reset-adopts-shards';

/** Marks histories in which a rolling window starts every shard a free seat allows in one workflow task. */
const PARALLEL_STARTS_PATCH = 'window-parallel-starts';

/** What one page of a run starts its shards with. */
export interface ShardPage {
  run: ResolvedRun;
  prepared: PreparedShards;
  progress: BatchRunProgress;
  board: RunBoard;
  controls: RunControls;
  gather: RemainderGather;
}

/**
 * A rolling window: shards outlive the page and report by signal, so a page continues as new
 * without draining. Histories from before it drain every page (undefined).
 */
export function openWindow({ run, progress, board, controls, gather }: ShardPage, carried: BatchRunContinuation['inFlight']): ShardWindow | undefined {
  if (!patched(ROLLING_PATCH)) return undefined;
  const totals = progress.totals;
  return new ShardWindow(
    async (done, self) => {
      if (done.outcome) {
        addShardOutcome(totals, done.outcome);
        gather.took(done.outcome);
      } else if (done.failed !== undefined) {
        await recordFailedShard(run, done.shardIndex, done.failed, totals);
      }
      progress.shardsRunning = self.size;
      board.shardDone();
    },
    carried,
    () => controls,
  );
}

/**
 * Starts the page's shards from `cursor`, as seats (or, before the window, the limit) and the live
 * settings allow, each claiming its cost against the budget first. Stops at the page's end, when
 * Temporal suggests continue-as-new, or at the first shard the budget refuses (`budget`). With a
 * window its shards are left running; otherwise (and on the last page or a budget stop) they are
 * waited for. `next` is the first shard not started.
 */
export async function startPage(page: ShardPage, window: ShardWindow | undefined, cursor: number): Promise<{ next: number; budget?: BudgetStop }> {
  const { run, prepared, progress, board, controls, gather } = page;
  const totals = progress.totals;
  const pageEnd = Math.min(prepared.shardCount, cursor + run.shardsPerPage);
  const inFlight = new Map<number, Promise<void>>();
  const running = () => window?.size ?? inFlight.size;
  progress.shardsRunning = running();
  let next = cursor;
  let budget: BudgetStop | undefined;
  try {
    // The budget for shard i: committed if it fits; otherwise the run stops submitting.
    const claim = (i: number): boolean => {
      const shardCost = prepared.shardCosts?.[i] ?? 0;
      const committed = totals.committedCostUsd ?? 0;
      const budgetUsd = controls.budgetUsd;
      if (budgetUsd !== undefined && committed + shardCost > budgetUsd) {
        budget = budgetStop(budgetUsd, committed, i, prepared, controls.budgetNote());
        controls.close(budget.message);
        return false;
      }
      totals.committedCostUsd = committed + shardCost;
      return true;
    };
    const windowStarted = (shardIndex: number, child: ChildWorkflowHandle<typeof bedrockJob>): void => {
      window!.add(shardIndex, child);
      progress.shardsStarted = Math.max(progress.shardsStarted, shardIndex + 1);
      progress.shardsRunning = window!.size;
      board.phase();
    };
    const startsTogether = window !== undefined && patched(PARALLEL_STARTS_PATCH);
    for (; next < pageEnd; next++) {
      // Live settings: the limit and pause as they are now (an update wakes this wait).
      // With a rolling window the limit counts shards holding a job seat, not those collecting their output.
      await condition(() => (window ? window.canStart() : running() < controls.maxConcurrentJobs && !controls.paused));
      if (next > cursor && workflowInfo().continueAsNewSuggested) break;
      if (!claim(next)) break;
      const shardIndex = next;
      if (window && startsTogether) {
        // Every seat open now gets its shard in this one workflow task: one start per task took seconds to fill 20 seats.
        const batch = [shardIndex];
        window.starting(shardIndex);
        while (next + 1 < pageEnd && window.canStart() && claim(next + 1)) {
          batch.push(++next);
          window.starting(next);
        }
        await Promise.all(batch.map(async (i) => windowStarted(i, await startShard(page, i, { ...gather.childInput(run, i), report: true }))));
        if (budget) {
          next++; // the first shard not submitted
          break;
        }
        continue;
      }
      const childInput = gather.childInput(run, shardIndex);
      window?.starting(shardIndex);
      const child = await startShard(page, shardIndex, window ? { ...childInput, report: true } : childInput);
      if (window) {
        windowStarted(shardIndex, child);
        continue;
      }
      inFlight.set(shardIndex, drained(page, shardIndex, child, inFlight));
      progress.shardsStarted = shardIndex + 1;
      progress.shardsRunning = inFlight.size;
      board.phase();
    }
    // A rolling page continues as new with its shards running; the last page (or a budget stop) waits for them.
    if (!window || budget || next >= prepared.shardCount) await condition(() => running() === 0);
    if (window) await window.settled();
  } catch (err) {
    if (isCancellation(err)) {
      // Children stop their Bedrock jobs on cancellation; wait for that before closing.
      await CancellationScope.nonCancellable(() => (window ? window.stop() : Promise.allSettled([...inFlight.values()]).then(() => undefined)));
    }
    throw err;
  }
  return { next, budget };
}

/** Before the window: the page follows its shard's result itself, and takes it out of `inFlight` once added. */
function drained(page: ShardPage, shardIndex: number, child: ChildWorkflowHandle<typeof bedrockJob>, inFlight: Map<number, Promise<void>>): Promise<void> {
  const { run, progress, board, gather } = page;
  const totals = progress.totals;
  return child
    .result()
    .then(
      (outcome) => {
        addShardOutcome(totals, outcome);
        gather.took(outcome);
      },
      async (err) => {
        if (!isCancellation(err)) await recordFailedShard(run, shardIndex, rootMessage(err), totals);
      },
    )
    .finally(() => {
      inFlight.delete(shardIndex);
      progress.shardsRunning = inFlight.size;
      board.shardDone();
    });
}

/**
 * A shard whose workflow failed still puts its rows in the output, each carrying why; only if
 * even that fails is the shard counted without rows (finalize then names it as missing).
 */
async function recordFailedShard(run: ResolvedRun, shardIndex: number, message: string, totals: RunTotals): Promise<void> {
  if (patched(REDRIVE_PATCH)) {
    const failure = { code: 'SHARD_FAILED', message: `the shard's workflow failed: ${message}` };
    try {
      addShardOutcome(totals, await collecting().collectShard({ run, shardIndex, attempts: 0, failure }));
      return;
    } catch (writeErr) {
      // Not fatal here: finalize's row check then fails the run naming this shard.
      log.warn('could not write the rows of a failed shard', { shardIndex, error: rootMessage(writeErr) });
    }
  }
  totals.shardsDone += 1;
  totals.shardsFailed += 1;
  if (totals.failedShards.length < MAX_SHARDS_LISTED) totals.failedShards.push({ shardIndex, message });
}

/**
 * Starts shard `shardIndex`'s workflow. After `temporal workflow reset`, the reset run's shard
 * workflows may still be running under their ids: the shard then starts under an id of this run,
 * and finds the same Bedrock jobs (their names come from the data, not from workflow ids), so
 * nothing is paid twice. The old shard workflows are left to finish: cancelling one would stop
 * the job both are following.
 */
async function startShard({ run, prepared, board }: ShardPage, shardIndex: number, childInput: ShardJobInput) {
  const workflowId = `${workflowInfo().workflowId}/shard-${shardIndex}`;
  const options = {
    args: [childInput] as [ShardJobInput],
    // A rolling window's shard outlives the page that started it; the run cancels it by id (ShardWindow.stop).
    parentClosePolicy: childInput.report ? ParentClosePolicy.ABANDON : ParentClosePolicy.REQUEST_CANCEL,
    ...board.shardOptions(run, prepared, shardIndex),
  };
  try {
    return await startChild(bedrockJob, { ...options, workflowId });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError) || !patched(RESET_PATCH)) throw err;
    log.warn('a shard workflow of an earlier (reset) run is still running; this run follows its jobs under its own id', { shardIndex, workflowId });
    return await startChild(bedrockJob, { ...options, workflowId: `${workflowId}-run-${workflowInfo().runId}` });
  }
}

function budgetStop(limitUsd: number, committedUsd: number, firstSkipped: number, prepared: PreparedShards, note = ''): BudgetStop {
  const shardsNotSubmitted = prepared.shardCount - firstSkipped;
  const message =
    `budget of $${limitUsd} reached: the ${firstSkipped} job(s) submitted may cost up to $${committedUsd.toFixed(4)} in batch, ` +
    `and the next would pass the budget; ${shardsNotSubmitted} job(s) were not submitted${note}`;
  return { limitUsd, committedUsd, shardsNotSubmitted, rowsNotSubmitted: 0, message };
}
