import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { DEFAULT_QUOTA_WAIT_MINUTES } from '../core/outcome';
import type { ResolvedRun } from '../shared/types';

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

export const collector = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', maximumInterval: '2 minutes', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});

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
