import { ActivityFailure, ApplicationFailure, CancellationScope, TimeoutFailure, isCancellation, log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { HARVESTABLE_JOB_STATUSES, bedrockJobName } from '../shared/jobNames';
import type { ShardJobInput, ShardOutcome } from '../shared/types';

// Short timeouts: an attempt lost with a crashed worker is retried after at most this long.
const quick = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', nonRetryableErrorTypes: ['BedrockValidation'] },
});

const collector = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', maximumInterval: '2 minutes', maximumAttempts: 10 },
});

/**
 * One shard = one Bedrock batch job: submit (idempotently), wait durably, harvest. A job that
 * fails as a whole is resubmitted under a new name up to `maxJobAttempts`; after that the shard's
 * rows are still written, each carrying the failure. Cancelling stops the job before returning.
 */
export async function bedrockJob({ run, shardIndex }: ShardJobInput): Promise<ShardOutcome> {
  // Polling is Temporal's retry loop over a one-call activity: waiting adds no history however long the job runs.
  const poller = proxyActivities<Activities>({
    startToCloseTimeout: '20 seconds',
    scheduleToCloseTimeout: `${run.jobTimeoutHours + 12} hours`,
    retry: { initialInterval: `${run.pollIntervalSeconds} seconds`, backoffCoefficient: 1, maximumInterval: `${run.pollIntervalSeconds} seconds` },
  });
  let jobName: string | undefined;
  let last: { jobArn: string; status: string; message?: string } | undefined;
  let failure: { code: string; message: string } | undefined;
  let attempt = 1;
  try {
    for (; attempt <= run.maxJobAttempts; attempt++) {
      jobName = bedrockJobName(run.runName, run.runKey, shardIndex, attempt);
      const submitted = await quick.submitJob({ run, shardIndex, attempt }).catch(rejectedAs('SUBMIT_REJECTED'));
      if ('code' in submitted) {
        failure = submitted;
        break;
      }
      const state = await poller.waitForJob({ jobArn: submitted.jobArn }).catch(rejectedAs('JOB_NOT_FOLLOWED'));
      if ('code' in state) {
        failure = state;
        break;
      }
      last = state;
      if (HARVESTABLE_JOB_STATUSES.includes(state.status)) {
        return await collector.collectShard({ run, shardIndex, attempts: attempt, jobArn: state.jobArn, jobStatus: state.status });
      }
      log.warn('Bedrock job failed', { shardIndex, attempt, jobArn: state.jobArn, message: state.message });
    }
    // No attempt produced outputs: the shard's rows are still written, each with the reason.
    return await collector.collectShard({
      run,
      shardIndex,
      attempts: Math.min(attempt, run.maxJobAttempts),
      jobArn: last?.jobArn,
      jobStatus: last?.status,
      failure: failure ?? { code: 'JOB_FAILED', message: `Bedrock job ${last?.status ?? 'failed'}: ${last?.message ?? 'no message'}` },
    });
  } catch (err) {
    if (isCancellation(err) && jobName) {
      const name = jobName;
      await CancellationScope.nonCancellable(() => quick.stopJob({ jobName: name }));
    }
    throw err;
  }
}

/**
 * Maps a failure that retrying cannot fix (Bedrock rejected the job, the job vanished, the wait
 * outlived the job's own timeout) to a shard failure, so the shard still writes its rows;
 * anything else (cancellation included) propagates.
 */
function rejectedAs(code: string) {
  return (err: unknown): { code: string; message: string } => {
    if (err instanceof ActivityFailure && !isCancellation(err)) {
      const cause = err.cause;
      if (cause instanceof ApplicationFailure && cause.nonRetryable) return { code, message: cause.message ?? code };
      if (cause instanceof TimeoutFailure) return { code: 'JOB_WAIT_TIMEOUT', message: `gave up waiting for the Bedrock job: ${cause.message}` };
    }
    throw err;
  };
}
