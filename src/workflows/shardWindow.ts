import {
  CancellationScope,
  ChildWorkflowHandle,
  TemporalFailure,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { rootMessage } from '../shared/errors';
import { shardDoneSignal } from '../shared/messages';
import type { InFlightShard, ShardDone, ShardOutcome } from '../shared/types';
import type { bedrockJob } from './bedrockJob';
import { JobSeats } from './jobSeats';

/**
 * Marks histories in which shards outlive the page that started them (ParentClosePolicy.ABANDON)
 * and report their end by signal, so a page continues as new without draining its jobs.
 */
export const ROLLING_PATCH = 'rolling-window';

/** How long a cancelled run waits for its shards to stop their jobs and say so. */
const STOP_WAIT = '10 minutes';

/**
 * The safety net for carried shards, whose end only a signal tells: how often the run asks the
 * server whether they are still running. A shard closed at two checks in a row with no end heard
 * (terminated by an operator, say) is recorded as failed, so the run cannot wait for it forever.
 */
const CHECK_CARRIED = '15 minutes';

// Describing a few workflows takes milliseconds; the check is retried at the next period anyway.
const { closedSlotHolders } = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 } });

/**
 * The run's side of a rolling window: the shards running now, whichever page started them. A shard
 * started by this page ends by its child result or by its `shardDone` signal, whichever comes
 * first (the other finds it gone and is ignored); a shard carried from an earlier page ends by its
 * signal, which Temporal delivers to the workflow id's current run. `settle` applies an end to the
 * run's totals; a failed shard's settle runs an activity, so pages wait for `settled()` before
 * continuing as new, and nothing received is left unapplied.
 */
export class ShardWindow {
  /** Shard index → its workflow (id and first run id), or undefined while its start is under way. */
  private readonly running = new Map<number, { workflowId: string; runId: string } | undefined>();
  /** Shards this page did not start: nothing here cancels them when the run is cancelled, so stop() does. */
  private readonly carried = new Set<number>();
  private readonly pending = new Set<Promise<void>>();
  private readonly seats: JobSeats;

  constructor(
    /**
     * Applies an end, given this window. Called from the constructor too: a `shardDone` buffered
     * across continue-as-new is delivered as soon as the handler is set, before the caller holds the window.
     */
    private readonly settle: (done: ShardDone, window: ShardWindow) => Promise<void>,
    carried: InFlightShard[] = [],
    limits: () => { maxConcurrentJobs: number; paused: boolean } = () => ({ maxConcurrentJobs: Number.POSITIVE_INFINITY, paused: false }),
  ) {
    for (const { shardIndex, workflowId, runId } of carried) {
      this.running.set(shardIndex, { workflowId, runId });
      this.carried.add(shardIndex);
    }
    this.seats = new JobSeats((i) => this.running.has(i), limits, () => this.running.size, carried);
    // Setting a handler delivers the signals buffered across continue-as-new at once: ends first,
    // so a seat signal of a shard that has ended since is ignored.
    setHandler(shardDoneSignal, (done: ShardDone) => this.ended(done));
    this.seats.listen();
    if (this.carried.size) void this.watchCarried();
  }

  /** Running shards, with a job or collecting its output. */
  get size(): number {
    return this.running.size;
  }

  /** Running shards that hold a job seat: what maxConcurrentJobs bounds. */
  get jobsHeld(): number {
    return this.seats.held;
  }

  /** Whether the next shard may start: a job seat is open, submission is not paused, no running shard waits for a seat. */
  canStart(): boolean {
    return this.seats.canStart();
  }

  /**
   * Before a shard's start: counted from now, so an end signal that lands in the same workflow task
   * as the start is applied, not dropped (the page may continue as new right after the start).
   */
  starting(shardIndex: number): void {
    this.running.set(shardIndex, undefined);
  }

  /** A shard this page started: its result is the fallback should its signal never come. */
  add(shardIndex: number, child: ChildWorkflowHandle<typeof bedrockJob>): void {
    if (!this.running.has(shardIndex)) return; // it ended already: its signal came with its start
    this.running.set(shardIndex, { workflowId: child.workflowId, runId: child.firstExecutionRunId });
    child.result().then(
      (outcome) => this.ended({ shardIndex, outcome }),
      (err: unknown) => this.ended(isCancellation(err) ? { shardIndex, cancelled: true } : { shardIndex, failed: rootMessage(err) }),
    );
  }

  /** Waits until every end received so far is applied (a failed shard's rows are written by an activity). */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
    await this.seats.delivered();
  }

  /** What the next page carries: references only, at most the concurrency limit of them. */
  carry(): InFlightShard[] | undefined {
    // Every entry is started by now: a page continues as new only after its last start returned.
    return this.running.size
      ? [...this.running].map(([shardIndex, w]) => ({ shardIndex, workflowId: w!.workflowId, runId: w!.runId, ...this.seats.seatOf(shardIndex) }))
      : undefined;
  }

  /**
   * The run is cancelled: shards this page started are cancelled with its scope; carried ones are
   * abandoned children, so they are cancelled by id. Then waits (bounded) for each to stop its job
   * and report, so the run closes after its jobs are stopped, as before.
   */
  async stop(): Promise<void> {
    // A start cut short by the cancellation: the scope cancels that child if it began; no end will come for it.
    for (const [i, w] of this.running) if (!w) this.running.delete(i);
    await Promise.all(
      [...this.running].filter(([i]) => this.carried.has(i)).map(([shardIndex, w]) =>
        getExternalWorkflowHandle(w!.workflowId)
          .cancel()
          .catch((err: unknown) => log.warn('could not cancel a running shard', { shardIndex, workflowId: w!.workflowId, error: rootMessage(err) })),
      ),
    );
    if (!(await condition(() => this.running.size === 0, STOP_WAIT))) {
      log.warn('shards did not report stopping in time', { shards: [...this.running.keys()] });
    }
    await this.settled();
  }

  private ended(done: ShardDone): void {
    // The second of (signal, child result) for the same shard, or the end of a workflow this run did not start.
    const known = this.running.get(done.shardIndex);
    if (!this.running.has(done.shardIndex) || (known && done.workflowId && done.workflowId !== known.workflowId)) return;
    this.running.delete(done.shardIndex);
    this.carried.delete(done.shardIndex);
    this.seats.forget(done.shardIndex);
    const applied: Promise<void> = this.settle(done, this).finally(() => this.pending.delete(applied));
    this.pending.add(applied);
  }

  /** The safety net (CHECK_CARRIED) while carried shards run; a failed check waits for the next period. */
  private async watchCarried(): Promise<void> {
    let closedBefore = new Set<number>();
    try {
      while (this.carried.size) {
        await sleep(CHECK_CARRIED);
        const shards = [...this.carried].map((i) => ({ shardIndex: i, ...this.running.get(i)! }));
        if (!shards.length) return;
        const { closed } = await closedSlotHolders({ holders: shards.map(({ workflowId, runId }) => ({ workflowId, runId })) }).catch(() => ({ closed: [] }));
        const closedNow = new Set(shards.filter((s) => closed.some((c) => c.workflowId === s.workflowId && c.runId === s.runId)).map((s) => s.shardIndex));
        for (const i of closedNow) {
          if (!closedBefore.has(i) || !this.carried.has(i)) continue;
          log.warn('a running shard closed without telling the run how it ended', { shardIndex: i });
          this.ended({ shardIndex: i, failed: `the shard's workflow closed (terminated?) without telling the run how it ended` });
        }
        closedBefore = closedNow;
      }
    } catch (err) {
      // A cancelled run cancels the timer; stop() takes over from there.
      if (!isCancellation(err)) throw err;
    }
  }
}

/**
 * A shard's side: runs the shard and tells its run's workflow id how it ended. A non-Temporal error
 * fails only the workflow task (retried), so it is not reported; the task's commands are dropped anyway.
 */
export async function reportingToRun(shardIndex: number, body: () => Promise<ShardOutcome>): Promise<ShardOutcome> {
  let outcome: ShardOutcome;
  try {
    outcome = await body();
  } catch (err) {
    const workflowId = workflowInfo().workflowId;
    if (err instanceof TemporalFailure) await tellRun(isCancellation(err) ? { shardIndex, workflowId, cancelled: true } : { shardIndex, workflowId, failed: rootMessage(err) });
    throw err;
  }
  const { files: _files, ...counts } = outcome;
  await tellRun({ shardIndex, workflowId: workflowInfo().workflowId, outcome: counts });
  return outcome;
}

/** By workflow id only, so the signal reaches the run current now (Temporal buffers it across continue-as-new). */
async function tellRun(done: ShardDone): Promise<void> {
  const parent = workflowInfo().parent;
  if (!parent) return;
  await CancellationScope.nonCancellable(() => getExternalWorkflowHandle(parent.workflowId).signal(shardDoneSignal, done)).catch((err: unknown) =>
    log.warn('could not tell the run how the shard ended', { shardIndex: done.shardIndex, error: rootMessage(err) }),
  );
}
