import { ActivityFailure, ApplicationFailure, CancellationScope, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { JobState } from '../activities/bedrockJobs';
import { TERMINAL_JOB_STATUSES } from '../shared/jobNames';
import { jobStateChangedSignal } from '../shared/messages';

/** Marks histories in which a shard waits for its job's end by event as well as by polling. */
export const JOB_EVENTS_PATCH = 'job-events';

/**
 * One check after an event. Bedrock's Get may lag its event by a moment, so "still running" is
 * retried a few times (about 15 s in all) before the wait goes back to polling.
 */
const checker = proxyActivities<Activities>({
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumAttempts: 4 },
});

/**
 * Job ARN → terminal status heard by the `jobStateChanged` signal. Registered when the shard
 * workflow starts, so a signal that comes while the job is still being submitted is kept.
 * Non-terminal statuses are dropped: nothing waits on them.
 */
export function listenForJobEnds(): Map<string, string> {
  const ended = new Map<string, string>();
  setHandler(jobStateChangedSignal, ({ jobArn, status }) => {
    if (typeof jobArn === 'string' && TERMINAL_JOB_STATUSES.includes(status)) ended.set(jobArn, status);
  });
  return ended;
}

/**
 * Waits for the job to end: the poll (Temporal's retry loop over one Get, no history per poll, at
 * the run's long safety-net interval) races an event saying the job ended. When the event wins,
 * the poll is cancelled and the job is checked once; if Bedrock does not confirm it, polling
 * resumes. Either way the result is what Bedrock itself answers, never the event's word; `onEvent`
 * runs when an event arrives, before the check.
 */
export async function waitForJobEnd(jobArn: string, ended: Map<string, string>, poll: () => Promise<JobState>, onEvent?: () => void): Promise<JobState> {
  for (;;) {
    if (!ended.has(jobArn)) {
      const scope = new CancellationScope();
      try {
        const polled = await scope.run(() =>
          Promise.race([poll().then((state) => ({ state })), condition(() => ended.has(jobArn)).then(() => undefined)]),
        );
        if (polled) return polled.state;
      } finally {
        // Cancels whichever lost: the poll activity (even mid-backoff) or the condition.
        scope.cancel();
      }
    }
    ended.delete(jobArn);
    // What the event changes at once (the run's job seat); the outcome still waits for Bedrock's word.
    onEvent?.();
    try {
      return await checker.waitForJob({ jobArn });
    } catch (err) {
      if (!(err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === 'JobStillRunning')) throw err;
    }
  }
}
