import { ActivityCancellationType, type ActivityOptions, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { DEFAULT_QUOTA_WAIT_MINUTES } from '../core/outcome';
import { type ResolvedRun, cpuTaskQueue } from '../shared/types';

/**
 * The activity options every Bedrock job uses, a shard's and a pooled one's alike: one place, so a
 * timeout or retry bound cannot drift between them.
 */
export const NON_RETRYABLE = ['BedrockValidation', 'RunStorageLost'];

// Short timeouts: an attempt lost with a crashed worker is retried after at most this long.
export const stopper = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '10 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 10 },
});

const COLLECT_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', maximumInterval: '2 minutes', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
};
const collector = proxyActivities<Activities>(COLLECT_OPTIONS);

/** Marks histories in which preparing parts and collecting shards go to the CPU task queue (cpuTaskQueue). */
export const CPU_QUEUE_PATCH = 'cpu-task-queue';

/** The workflow's CPU task queue, or undefined in histories from before it (their activities stay on the workflow's queue). */
export function cpuQueue(): string | undefined {
  return patched(CPU_QUEUE_PATCH) ? cpuTaskQueue(workflowInfo().taskQueue) : undefined;
}

/** Collecting, re-drive and gather inputs: CPU-bound, so on the CPU task queue where the history allows. */
export function collecting(): typeof collector {
  const taskQueue = cpuQueue();
  return taskQueue ? proxyActivities<Activities>({ ...COLLECT_OPTIONS, taskQueue }) : collector;
}

/** Submit and poll, bounded by the run: quota waits up to `quotaWaitMinutes`, polling up to the job's own timeout. */
export function jobActivities(run: ResolvedRun) {
  // Polling is Temporal's retry loop over a one-call activity: waiting adds no history however long the job runs.
  const poller = proxyActivities<Activities>({
    startToCloseTimeout: '20 seconds',
    scheduleToCloseTimeout: `${run.jobTimeoutHours + 12} hours`,
    retry: { initialInterval: `${run.pollIntervalSeconds} seconds`, backoffCoefficient: 1, maximumInterval: `${run.pollIntervalSeconds} seconds` },
  });
  // A submit waits out quota-full answers up to the run's bound; on cancel it finishes first, so
  // the stop that follows finds the job it may have created.
  const submitter = proxyActivities<Activities>({
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: `${run.quotaWaitMinutes ?? DEFAULT_QUOTA_WAIT_MINUTES} minutes`,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', nonRetryableErrorTypes: NON_RETRYABLE },
  });
  return { poller, submitter };
}
