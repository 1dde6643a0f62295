import {
  type ActivityOptions,
  ApplicationFailure,
  CancellationScope,
  type ChildWorkflowHandle,
  ParentClosePolicy,
  TemporalFailure,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { MAX_SHARDS_LISTED, addNotSubmitted, addShardOutcome } from '../core/outcome';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { INPUT_ERROR_TYPES, rootMessage } from '../shared/errors';
import { progressQuery } from '../shared/messages';
import { cleanupCommand } from '../shared/paths';
import {
  BatchRunContinuation,
  BatchRunProgress,
  BatchRunWorkflowInput,
  BudgetStop,
  PreparedPart,
  PreparedShards,
  ResolvedRun,
  RunSummary,
  RunTotals,
  ShardJobInput,
  emptyTotals,
} from '../shared/types';
import { REDRIVE_PATCH, bedrockJob } from './bedrockJob';
import { collecting, cpuQueue } from './jobActivities';
import { RunBoard } from './runBoard';
import { RemainderGather } from './gatherRemainders';
import { trackShardStates } from './shardStates';
import { RunControls } from './runControls';
import { ROLLING_PATCH, ShardWindow } from './shardWindow';

// Reads only headers and footers: a short timeout so a worker lost meanwhile costs little.
const { resolveRun } = proxyActivities<Activities>({
  startToCloseTimeout: '90 seconds',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: INPUT_ERROR_TYPES },
});
const HEAVY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '30 seconds',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: INPUT_ERROR_TYPES },
};
const { prepareShards, preparePart, finalizeRun, writeUnsubmittedShards } = proxyActivities<Activities>(HEAVY_OPTIONS);
// Planning reads footers, or scans a big CSV once for record boundaries; combining reads part
// manifests. Both heartbeat about once a second, so a lost worker is noticed within a minute, not
// at the 2 h bound.
const { planPreparation, combineParts } = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: INPUT_ERROR_TYPES },
});

// Listing a run's objects takes seconds to minutes; a few attempts, since what the run must
// report in the end is its own failure, not this one.
const { recordIncompleteRun } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 3 },
});

/** Marks histories in which a shard whose id is taken (after a reset) starts under this run's own id. */
const RESET_PATCH = 'reset-adopts-shards';

/** Marks histories in which a rolling window starts every shard a free seat allows in one workflow task. */
const PARALLEL_STARTS_PATCH = 'window-parallel-starts';

/** Marks histories in which a failed or cancelled run lists what it wrote before it closes. */
const INCOMPLETE_PATCH = 'list-incomplete-run';

/** A null, array or scalar argument cannot be a run: fail the run at once instead of its workflow task forever. */
function checkWorkflowArgument(input: unknown): void {
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) return;
  const got = input === undefined ? 'no argument' : Array.isArray(input) ? 'an array' : input === null ? 'null' : `a ${typeof input}`;
  throw ApplicationFailure.create({
    type: 'RunInputError',
    nonRetryable: true,
    message: `batchRun takes one JSON object, the run input (see samples/run-text.json), but got ${got}`,
  });
}

/** Input parts become shard files in parallel activities (any worker takes one); then one manifest. */
async function prepareInParts(run: ResolvedRun, progress: BatchRunProgress, board: RunBoard): Promise<PreparedShards> {
  const { parts } = await planPreparation(run);
  progress.partsTotal = parts.length;
  progress.partsDone = 0;
  const taskQueue = cpuQueue();
  const prepare = taskQueue ? proxyActivities<Activities>({ ...HEAVY_OPTIONS, taskQueue }).preparePart : preparePart;
  const prepared: PreparedPart[] = [];
  let next = 0;
  const lane = async () => {
    while (next < parts.length) {
      const part = parts[next++];
      prepared[part.index] = await prepare({ run, part });
      progress.partsDone = (progress.partsDone ?? 0) + 1;
      board.phase();
    }
  };
  await Promise.all(Array.from({ length: Math.min(run.prepareConcurrency ?? 1, parts.length) }, lane));
  return combineParts({ run, parts: prepared });
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
async function startShard(run: ResolvedRun, prepared: PreparedShards, shardIndex: number, board: RunBoard, childInput: ShardJobInput = { run, shardIndex }) {
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

/** The type and retry flag of the application error inside `err` (an activity's, say), kept when it is wrapped. */
function failureKind(err: Error): { type: string; nonRetryable: boolean } {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof ApplicationFailure) return { type: e.type ?? e.name, nonRetryable: e.nonRetryable ?? false };
  }
  return { type: err.name, nonRetryable: false };
}

/**
 * Runs `body`; if it fails or is cancelled, first lists what the run wrote in `_incomplete.json`
 * (in a non-cancellable scope, so a cancelled run does it too), then ends as it would have: the
 * cancellation as is, a failure with its type and its message ending with where the files are.
 */
async function listingLeftoversOnFailure<T>(run: ResolvedRun, body: () => Promise<T>): Promise<T> {
  const scope = new CancellationScope();
  try {
    return await scope.run(body);
  } catch (err) {
    // Continue-as-new ends nothing, and any other non-Temporal error fails the workflow task (retried
    // once the code is fixed), not the run; histories from before the patch closed without a listing.
    if (!(err instanceof TemporalFailure) || !patched(INCOMPLETE_PATCH)) throw err;
    // Before, the run closed here. Now it lives on while it lists: stop what is still running in it
    // (other lanes would go on preparing parts, and starting new ones) so the listing holds still.
    scope.cancel();
    const cancelled = isCancellation(err);
    const { workflowId, runId } = workflowInfo();
    const reason = cancelled ? 'the run was cancelled' : rootMessage(err);
    const listed = await CancellationScope.nonCancellable(() =>
      recordIncompleteRun({ runUri: run.runUri, workflowId, runId, ended: cancelled ? 'cancelled' : 'failed', reason }),
    ).then(
      () => true,
      (listErr: unknown) => {
        log.error('could not list the files of the failed run', { runUri: run.runUri, error: rootMessage(listErr) });
        return false;
      },
    );
    if (cancelled) throw err;
    const where = `files of this run: ${run.runUri}/, ${listed ? 'listed in _incomplete.json' : 'not listed (listing them failed)'}; remove with: ${cleanupCommand(workflowId)}`;
    throw ApplicationFailure.create({ ...failureKind(err), message: `${reason} (${where})`, cause: err });
  }
}

/**
 * A batch run: resolve and check the input, preprocess into shards, run one child workflow per
 * shard with at most `maxConcurrentJobs` at once, then write the manifest and summary. Shards
 * are started in pages; between pages the workflow continues as new with nothing in flight, so
 * history stays bounded for any number of shards. A run that fails or is cancelled once its run
 * key exists lists the files it wrote (an input error found by resolveRun has written nothing).
 */
export async function batchRun(input: BatchRunWorkflowInput): Promise<RunSummary> {
  checkWorkflowArgument(input);
  const progress: BatchRunProgress = { phase: 'resolving', shardsStarted: 0, shardsRunning: 0, totals: emptyTotals() };
  setHandler(progressQuery, () => progress);
  const shardStates = trackShardStates(progress, input.continuation?.shardStates);
  const board = new RunBoard(progress);
  const continued = input.continuation && { run: input.continuation.run, carried: input.continuation.controls };
  const controls = new RunControls(progress, () => board.settingsChanged(), continued);

  let run: ResolvedRun;
  if (input.continuation) {
    run = input.continuation.run;
    progress.totals = input.continuation.totals;
  } else {
    board.started(input.modelId);
    const { continuation: _ignored, ...runInput } = input;
    run = await resolveRun(runInput);
  }
  progress.runKey = run.runKey;
  controls.start(run, input.continuation?.controls);
  board.resolved(run, input.continuation?.prepared);
  return listingLeftoversOnFailure(run, () => runResolved(input, run, progress, board, controls, shardStates));
}

/** Everything after resolving: preprocessing (unless continued), one page of shards, then finalizing or continuing as new. */
async function runResolved(
  input: BatchRunWorkflowInput,
  run: ResolvedRun,
  progress: BatchRunProgress,
  board: RunBoard,
  controls: RunControls,
  shardStates: { carry(): BatchRunContinuation['shardStates'] },
): Promise<RunSummary> {
  let prepared: PreparedShards;
  if (input.continuation) {
    prepared = input.continuation.prepared;
  } else {
    progress.phase = 'preparing';
    board.phase();
    // Runs whose history holds the one-activity preprocessing replay it; new runs prepare in parts.
    prepared = patched('prepare-in-parts') ? await prepareInParts(run, progress, board) : await prepareShards(run);
  }
  Object.assign(progress, { phase: 'running', runKey: run.runKey, shardCount: prepared.shardCount, rowCount: prepared.rowCount });
  board.preparedShards(prepared);
  const gather = new RemainderGather(progress, prepared, input.continuation?.remainders);

  const cursor = input.continuation?.cursor ?? 0;
  progress.shardsStarted = cursor;
  const pageEnd = Math.min(prepared.shardCount, cursor + run.shardsPerPage);
  const inFlight = new Map<number, Promise<void>>();
  const totals = progress.totals;
  // A rolling window: shards outlive the page and report by signal, so a page continues as new
  // without draining. Histories from before it drain every page.
  const window = patched(ROLLING_PATCH)
    ? new ShardWindow(async (done, self) => {
        if (done.outcome) {
          addShardOutcome(totals, done.outcome);
          gather.took(done.outcome);
        } else if (done.failed !== undefined) {
          await recordFailedShard(run, done.shardIndex, done.failed, totals);
        }
        progress.shardsRunning = self.size;
        board.shardDone();
      }, input.continuation?.inFlight, () => controls)
    : undefined;
  if (window) controls.governRedrives();
  if (gather.pools) controls.poolsRemainders();
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
        await Promise.all(batch.map(async (i) => windowStarted(i, await startShard(run, prepared, i, board, { ...gather.childInput(run, i), report: true }))));
        if (budget) {
          next++; // the first shard not submitted
          break;
        }
        continue;
      }
      const childInput = gather.childInput(run, shardIndex);
      window?.starting(shardIndex);
      const child = await startShard(run, prepared, shardIndex, board, window ? { ...childInput, report: true } : childInput);
      if (window) {
        windowStarted(shardIndex, child);
        continue;
      }
      const done = child
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
      inFlight.set(shardIndex, done);
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

  if (budget) {
    const failure = { code: 'NOT_SUBMITTED_BUDGET', message: budget.message };
    const skipped = await writeUnsubmittedShards({ run, from: next, to: prepared.shardCount, failure });
    addNotSubmitted(totals, prepared.shardCount - next, skipped.rows);
    budget.rowsNotSubmitted = skipped.rows;
  } else if (next < prepared.shardCount) {
    // Every end received so far is applied above (settled, with no await since): a later one is buffered for the next run.
    const rolling = window ? { inFlight: window.carry(), shardStates: shardStates.carry() } : {};
    return continueAsNew<typeof batchRun>({ ...input, continuation: { run, prepared, cursor: next, totals, controls: controls.carry(), remainders: gather.carry(), ...rolling } });
  }
  await gather.finish(run, prepared, totals, controls.budgetUsd);
  progress.phase = 'finalizing';
  board.phase();
  const summary = await finalizeRun({ run, prepared, totals, budget });
  progress.phase = 'done';
  board.ended(summary.outcome);
  return summary;
}
