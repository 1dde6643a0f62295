import {
  type ActivityOptions,
  ApplicationFailure,
  CancellationScope,
  TemporalFailure,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { addNotSubmitted } from '../core/outcome';
import { INPUT_ERROR_TYPES, rootMessage } from '../shared/errors';
import { progressQuery } from '../shared/messages';
import { cleanupCommand } from '../shared/paths';
import {
  BatchRunContinuation,
  BatchRunProgress,
  BatchRunWorkflowInput,
  PreparedPart,
  PreparedShards,
  ResolvedRun,
  RunSummary,
  emptyTotals,
} from '../shared/types';
import { cpuQueue } from './jobActivities';
import { RunBoard } from './runBoard';
import { RemainderGather } from './gatherRemainders';
import { trackShardStates } from './shardStates';
import { RunControls } from './runControls';
import { type ShardPage, openWindow, startPage } from './shardPages';

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
 * shard with at most `maxConcurrentJobs` jobs at once, then write the manifest and summary. Shards
 * are started in pages, and the workflow continues as new between pages with its shards still
 * running (shardPages.ts), so history stays bounded for any number of shards. A run that fails or is cancelled once its run
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
  const totals = progress.totals;
  const page: ShardPage = { run, prepared, progress, board, controls, gather };
  const window = openWindow(page, input.continuation?.inFlight);
  if (window) controls.governRedrives();
  if (gather.pools) controls.poolsRemainders();
  const { next, budget } = await startPage(page, window, cursor);

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
