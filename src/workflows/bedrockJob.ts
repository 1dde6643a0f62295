import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TimeoutFailure,
  isCancellation,
  log,
  patched,
  proxyActivities,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { MIN_RECORDS_PER_JOB } from '../core/outcome';
import { rootMessage } from '../shared/errors';
import { HARVESTABLE_JOB_STATUSES, bedrockJobName } from '../shared/jobNames';
import type { ShardJob, ShardJobInput, ShardOutcome, ShardRemainder } from '../shared/types';
import { shardDetails } from './runBoard';
import { watchSubmit } from './shardStates';
import { JobSlot } from './jobSlot';
import { RunSeat } from './jobSeats';
import { JOB_EVENTS_PATCH, listenForJobEnds, waitForJobEnd } from './jobEvents';
import { reportingToRun } from './shardWindow';
import { NON_RETRYABLE, collecting, jobActivities, stopper } from './jobActivities';

/** Marks histories in which unanswered records are re-driven and a vanished job is resubmitted. */
export const REDRIVE_PATCH = 'redrive-unanswered';
/** Marks histories in which a shard with nothing left to re-drive ends without a note or an on-demand step. */
export const EMPTY_REMAINDER_PATCH = 'skip-empty-remainder';
/** Marks histories in which a remainder too small for a batch job was answered on demand. */
export const ON_DEMAND_PATCH = 'on-demand-remainder';

type Failure = { code: string; message: string };

/**
 * One shard = one Bedrock batch job, and more if needed: submit (idempotently), wait durably,
 * harvest. A job that fails as a whole is resubmitted under a new name; records a Stopped,
 * Expired or PartiallyCompleted job (or a record error) left without an answer are re-driven as
 * a new job of just those records, all within `maxJobAttempts`. Every row is written in the
 * end, with its answer or the reason it has none. Cancelling stops the job before returning.
 */
export async function bedrockJob(input: ShardJobInput): Promise<ShardOutcome> {
  // A shard of a rolling window outlives the page that started it: it tells the run how it ended.
  return input.report ? reportingToRun(input.shardIndex, () => runShard(input)) : runShard(input);
}

async function runShard({ run, shardIndex, gather, report }: ShardJobInput): Promise<ShardOutcome> {
  const { poller, submitter } = jobActivities(run);
  const jobEnds = listenForJobEnds();
  const jobs: ShardJob[] = [];
  // One slot of the (account, Region, model) budget shared across runs, held while a job runs.
  const slot = new JobSlot(run, shardIndex);
  // A seat in the run's window of jobs: given back while the shard collects, taken again for a re-drive.
  const seat = new RunSeat(shardIndex, report === true);
  let jobName: string | undefined;
  let inputUri: string | undefined;
  let failure: Failure | undefined;
  let attempt = 1;
  try {
    for (; attempt <= run.maxJobAttempts; attempt++) {
      jobName = bedrockJobName(run.runName, run.runKey, shardIndex, attempt);
      await seat.takeAgain();
      shardDetails(shardIndex, attempt, 'submitting');
      const request = { run, shardIndex, attempt, inputUri };
      // A slot free at once takes the job's submit in the same step; otherwise the shard submits once it holds the slot.
      const submitted =
        (await slot.acquireAndSubmit(attempt, request)) ??
        (await watchSubmit(shardIndex, () => submitter.submitJob(request), report).catch(rejectedAs('SUBMIT_REJECTED', 'SUBMIT_QUOTA_WAIT')));
      if ('code' in submitted) {
        failure = submitted;
        break;
      }
      slot.submitted(submitted.jobArn);
      shardDetails(shardIndex, attempt, 'submitted; waiting for the job to end', submitted.jobArn);
      const poll = () => poller.waitForJob({ jobArn: submitted.jobArn });
      // With job events on, an event ends the wait at once; the poll (at a long interval) is the safety net.
      const waited = run.jobEvents && patched(JOB_EVENTS_PATCH) ? waitForJobEnd(submitted.jobArn, jobEnds, poll, () => freeOnEvent(slot, seat)) : poll();
      const state = await waited.catch(rejectedAs('JOB_NOT_FOLLOWED', 'JOB_WAIT_TIMEOUT'));
      if (seat.enabled) await Promise.all([slot.ended(), seat.giveBack()]);
      else await slot.ended();
      // Current details are read by query, not recorded: they cost no history.
      shardDetails(shardIndex, attempt, 'code' in state ? state.code : state.status, submitted.jobArn);
      if ('code' in state) {
        failure = state;
        // A job Bedrock no longer knows is gone, not finished: a new attempt gets a new job.
        if (state.code === 'JOB_NOT_FOLLOWED' && patched(REDRIVE_PATCH)) continue;
        break;
      }
      if (!HARVESTABLE_JOB_STATUSES.includes(state.status)) {
        failure = { code: 'JOB_FAILED', message: `Bedrock job ${state.jobId} ${state.status}: ${state.message ?? 'no message'}` };
        log.warn('Bedrock job failed', { shardIndex, attempt, jobArn: state.jobArn, message: state.message });
        continue;
      }
      failure = undefined;
      jobs.push({ attempt, jobArn: state.jobArn, status: state.status });
      const outcome = await collecting().collectShard({ run, shardIndex, attempts: attempt, jobs });
      if (outcome.status === 'succeeded' || attempt >= run.maxJobAttempts || !patched(REDRIVE_PATCH)) return outcome;
      const redrive = await collecting().prepareRedrive({ run, shardIndex, attempt: attempt + 1, jobs });
      // Nothing to send again: every record in the shard's JSONL has an answer, and the rows still
      // without one were kept out before submit (RECORD_TOO_LARGE) and already say why.
      if (redrive.records === 0 && patched(EMPTY_REMAINDER_PATCH)) return outcome;
      if (redrive.records < MIN_RECORDS_PER_JOB) {
        // Too few alone, but the run may gather them with other shards' into one job (gatherRemainders).
        if (gather && redrive.records > 0) return handBack(outcome, { ...redrive, attempt: attempt + 1 });
        if (run.smallRemainder === 'on-demand' && patched(ON_DEMAND_PATCH)) {
          return await answerOnDemand({ run, shardIndex, attempts: attempt, jobs }, redrive);
        }
        const note = `${redrive.records} record(s) left without an answer are fewer than Bedrock's minimum of ${MIN_RECORDS_PER_JOB} per job, so they were not re-driven`;
        return { ...outcome, message: `${outcome.message ?? ''}; ${note}`.replace(/^; /, '') };
      }
      inputUri = redrive.inputUri;
    }
    // The last attempt produced no outputs: every row no earlier job answered is written with the reason.
    return await collecting().collectShard({
      run,
      shardIndex,
      attempts: Math.min(attempt, run.maxJobAttempts),
      jobs,
      failure: failure ?? { code: 'JOB_FAILED', message: 'Bedrock job failed' },
    });
  } catch (err) {
    if (isCancellation(err) && jobName) {
      const name = jobName;
      await CancellationScope.nonCancellable(() => stopper.stopJob({ jobName: name }));
    }
    throw err;
  } finally {
    // Every way out gives the slot back, a cancelled shard's too (after its job was stopped above).
    await CancellationScope.nonCancellable(() => slot.release());
  }
}

/**
 * Sends a remainder too small for a batch job as on-demand calls, then collects the shard again
 * with their answers. Calls failing as a whole (access denied, throttled past every retry) still
 * leave the rows written, with what was answered before and the reason in the shard's message.
 */
export async function answerOnDemand(shard: { run: ShardJobInput['run']; shardIndex: number; attempts: number; jobs: ShardJob[] }, redrive: { records: number; inputUri: string }) {
  const { run, shardIndex } = shard;
  // Bounded by the rate: every record paced plus a minute of backoff each, at most; a lost worker is noticed within 2 minutes.
  const boundSeconds = Math.ceil(redrive.records / (run.onDemandRequestsPerSecond ?? 1)) + redrive.records * 60 + 600;
  const onDemand = proxyActivities<Activities>({
    startToCloseTimeout: `${boundSeconds} seconds`,
    scheduleToCloseTimeout: `${boundSeconds} seconds`,
    heartbeatTimeout: '2 minutes',
    retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', nonRetryableErrorTypes: [...NON_RETRYABLE, 'OnDemandRefused'] },
  });
  const called = await onDemand.answerOnDemand({ run, shardIndex, inputUri: redrive.inputUri }).catch(rejectedAs('ON_DEMAND_FAILED', 'ON_DEMAND_TIMEOUT'));
  const outcome = await collecting().collectShard({ ...shard, onDemand: true });
  if (!('code' in called)) return outcome;
  const note = `on-demand calls for the ${redrive.records} record(s) left without an answer stopped: ${called.message}`;
  return { ...outcome, message: `${outcome.message ?? ''}; ${note}`.replace(/^; /, '') };
}

/**
 * An event said the job ended: its slot and seat go back now, not after the check that confirms it
 * (which may retry for seconds while Bedrock's Get lags), so the next job starts at once. Should
 * Bedrock still count the job, the next submit meets a quota error and retries.
 */
function freeOnEvent(slot: JobSlot, seat: RunSeat): void {
  if (!seat.enabled) return;
  void slot.ended();
  void seat.giveBack();
}

/** The outcome with the remainder's reference for the run to gather (counts and URIs, never rows); the run adds what became of it to the message. */
function handBack(outcome: ShardOutcome, remainder: ShardRemainder): ShardOutcome {
  return { ...outcome, remainder };
}

/**
 * Maps an activity failure that is final (retries exhausted, not retryable, or past its time
 * bound) to a shard failure, so the shard still writes its rows; anything else (cancellation
 * included) propagates.
 */
export function rejectedAs(code: string, timeoutCode: string) {
  return (err: unknown): Failure => {
    if (err instanceof ActivityFailure && !isCancellation(err)) {
      const timedOut = err.cause instanceof TimeoutFailure || err.retryState === 'TIMEOUT';
      if (timedOut) return { code: timeoutCode, message: `gave up waiting (${err.activityType}, past its time bound): ${rootMessage(err)}` };
      if (err.cause instanceof ApplicationFailure && err.cause.nonRetryable) return { code, message: err.cause.message ?? code };
      return { code, message: `${err.activityType} failed after its retries: ${rootMessage(err)}` };
    }
    throw err;
  };
}
