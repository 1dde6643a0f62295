import { CancellationScope, getExternalWorkflowHandle, log, patched, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { shardStateSignal } from '../shared/messages';
import type { BatchRunProgress, ShardStateReport } from '../shared/types';

/** Marks histories in which a shard whose submit is slow tells its run (a timer per submit, a signal only when slow). */
export const SHARD_STATE_PATCH = 'shard-state-signals';

/** A submit answers in about a second; one still retrying after this is waiting on a full quota, denied access or throttling. */
const SLOW_SUBMIT = '20 seconds';
const LISTED = 10;

/**
 * The parent's side: shards stuck on something (a full job quota, denied access) report it by
 * signal, and `progress.shardStates` carries counts per state plus the first few shards with
 * theirs. Signals are sent only on entering and leaving such a state, so a healthy run records none.
 */
export function trackShardStates(progress: BatchRunProgress, carried: ShardStateReport[] = []): { carry(): ShardStateReport[] | undefined } {
  // Carried across continue-as-new: with a rolling window a stuck shard may outlive the page that heard it.
  const current = new Map<number, { state: string; since: string }>(carried.map((r) => [r.shardIndex, { state: r.state ?? '', since: r.since ?? '' }]));
  const show = () => {
    const counts: Record<string, number> = {};
    for (const s of current.values()) counts[s.state] = (counts[s.state] ?? 0) + 1;
    const shards = [...current].slice(0, LISTED).map(([i, s]) => ({ shardIndex: i, ...s }));
    progress.shardStates = current.size ? { counts, shards } : undefined;
  };
  setHandler(shardStateSignal, ({ shardIndex, state, since }: ShardStateReport) => {
    if (state) current.set(shardIndex, { state, since: since ?? new Date().toISOString() });
    else current.delete(shardIndex);
    show();
  });
  if (current.size) show();
  return { carry: () => (current.size ? [...current].map(([shardIndex, s]) => ({ shardIndex, ...s })) : undefined) };
}

/**
 * A shard's side: tells its run (if it has one) `state`, or that it is over (undefined). Best effort:
 * the run may have closed. With `toCurrentRun` (a rolling window) the signal goes to the run's
 * workflow id, so it reaches whichever run is current after continue-as-new.
 */
export async function reportShardState(shardIndex: number, state: string | undefined, toCurrentRun = false): Promise<void> {
  const parent = workflowInfo().parent;
  if (!parent) return;
  const report: ShardStateReport = { shardIndex, ...(state ? { state, since: new Date().toISOString() } : {}) };
  await CancellationScope.nonCancellable(() => getExternalWorkflowHandle(parent.workflowId, toCurrentRun ? undefined : parent.runId).signal(shardStateSignal, report)).catch((err: unknown) =>
    log.warn('could not report the shard state to its run', { shardIndex, error: String(err) }),
  );
}

/**
 * Runs a submit; if it has not answered after SLOW_SUBMIT (Temporal is retrying it: quota full,
 * access denied, throttled), reports `submit retrying` to the run until it does. Which retry and
 * why stays in the pending activity (`batch status` lists it); the run only counts stuck shards.
 */
export async function watchSubmit<T>(shardIndex: number, submit: () => Promise<T>, toCurrentRun = false): Promise<T> {
  if (!patched(SHARD_STATE_PATCH)) return submit();
  let settled = false;
  let reported: Promise<void> | undefined;
  const timer = new CancellationScope();
  // A cancelled run cancels the timer quietly: the submit's own cancellation is what the shard handles.
  void timer.run(() => sleep(SLOW_SUBMIT)).then(
    () => {
      if (!settled) reported = reportShardState(shardIndex, 'submit retrying (job quota full, access denied or throttled)', toCurrentRun);
    },
    () => undefined,
  );
  try {
    return await submit();
  } finally {
    settled = true;
    timer.cancel();
    if (reported) await reported.then(() => reportShardState(shardIndex, undefined, toCurrentRun));
  }
}
