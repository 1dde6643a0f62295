import { ActivityCancellationType, CancellationScope, condition, getExternalWorkflowHandle, isCancellation, log, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { SubmitJobRequest, SubmittedJob } from '../activities/bedrockJobs';
import type { JobSlotAnswer } from '../activities/jobSlots';
import type { SubmitInSlotAnswer } from '../activities/slotSubmit';
import { type SlotRequest, releaseSlotSignal, slotGrantedSignal } from '../shared/jobSlots';
import type { ResolvedRun } from '../shared/types';
import { shardDetails } from './runBoard';
import { reportShardState } from './shardStates';

/** Marks histories in which a shard holds a slot of the shared job-slot budget while its job runs. */
export const JOB_SLOTS_PATCH = 'job-slots';
/** Marks histories in which a shard waiting for a slot tells its run so (two signals per wait, none when granted at once). */
export const SLOT_WAIT_STATE_PATCH = 'slot-wait-state';

/** The state a shard waiting for a slot reports to its run: one key, so the run counts such shards together. */
export const WAITING_FOR_SLOT = 'waiting for a job slot';

/** How a wait for a slot shows: `waiting` when the request is queued, `granted` when the wait is over (or abandoned). */
export interface SlotWaitDisplay {
  waiting(ahead: number, attempt: number): Promise<void> | void;
  granted(): Promise<void> | void;
}

/**
 * A shard's display: its own current details (with its place in the queue), and its run's
 * progress.shardStates by signal, so `batch status` of the run counts the shards that wait.
 */
function shardWaitDisplay(shardIndex: number): SlotWaitDisplay {
  let reported = false;
  return {
    async waiting(ahead, attempt) {
      shardDetails(shardIndex, attempt, `${WAITING_FOR_SLOT} (${ahead} waiting ahead)`);
      if (!patched(SLOT_WAIT_STATE_PATCH)) return;
      reported = true;
      await reportShardState(shardIndex, WAITING_FOR_SLOT);
    },
    async granted() {
      if (!reported) return;
      reported = false;
      await reportShardState(shardIndex, undefined);
    },
  };
}

// One update call: short attempts, retried while the quota workflow continues as new or restarts;
// bounded, since ServiceQuotaExceeded still guards Bedrock if the budget cannot be reached at all.
const asker = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '30 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/** Marks histories in which a waiting shard asks again when no grant came for a while. */
export const SLOT_REASK_PATCH = 'slot-wait-reask';
/** Marks histories in which a shard granted its slot at once submits its job in the same activity. */
export const SLOT_AND_SUBMIT_PATCH = 'slot-and-submit';

// One try, bounded: anything but an at-once grant and submit goes the usual way (acquire, then the
// shard's submitter). On cancel it finishes first, so the stop that follows finds the job it may have created.
const slotSubmitter = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { maximumAttempts: 1 },
});

/**
 * A shard's place in the shared budget of job slots of its (account, Region, model): `acquire`
 * before submitting a job, `ended` once the job is terminal, `release` on every way out. Waiting
 * for a slot is not a failure: it does not count against the run's quotaWaitMinutes.
 */
export class JobSlot {
  /** Decided once, at the start: histories from before the budget replay without any of its commands. */
  private readonly enabled: boolean;
  private slotsId?: string;
  private ticket = 0;
  private grantedTicket = 0;
  private held = false;
  /** A job submitted under the slot and not yet known to have ended: Bedrock counts it against the quota until then. */
  private jobArn?: string;

  /** `shardIndex` undefined: the run's own pooled job, which passes its own `display`. */
  constructor(
    private readonly run: Pick<ResolvedRun, 'modelId' | 'roleArn' | 'pollIntervalSeconds'>,
    private readonly shardIndex: number | undefined,
    private readonly display: SlotWaitDisplay = shardWaitDisplay(shardIndex ?? -1),
  ) {
    this.enabled = patched(JOB_SLOTS_PATCH);
    setHandler(slotGrantedSignal, ({ ticket }) => {
      this.grantedTicket = Math.max(this.grantedTicket, ticket);
    });
  }

  /** Waits until the quota workflow grants a slot, asking again now and then; the display says how many are ahead. */
  async acquire(attempt: number): Promise<void> {
    if (!this.enabled) return;
    const holder = this.nextHolder();
    // try/await, not .catch(): the same promise hops as a plain await, so recorded histories replay.
    let answer: JobSlotAnswer | null = null;
    try {
      answer = await this.ask(holder);
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn('job-slot budget unreachable; submitting without it (Bedrock quota errors still hold submits back)', { error: String(err) });
    }
    await this.hold(answer, holder, attempt);
  }

  /**
   * `acquire`, and when the slot is free at once the submit too, in one activity (see
   * submitJobInSlot). Returns the job so submitted, or undefined when the shard is to submit the
   * usual way: the slot waited for, the one try failed, or a history from before this.
   */
  async acquireAndSubmit(attempt: number, submit: SubmitJobRequest): Promise<SubmittedJob | undefined> {
    if (!this.enabled || !patched(SLOT_AND_SUBMIT_PATCH)) {
      await this.acquire(attempt);
      return undefined;
    }
    const holder = this.nextHolder();
    let answer: SubmitInSlotAnswer;
    try {
      answer = await slotSubmitter.submitJobInSlot({ submit, holder });
    } catch (err) {
      if (isCancellation(err)) throw err;
      // The one try was lost (worker gone, timed out): asking again is idempotent by ticket, submitting by job name.
      await this.acquire(attempt);
      return undefined;
    }
    await this.hold(answer.slot, holder, attempt);
    return answer.submitted;
  }

  private nextHolder(): SlotRequest {
    const { workflowId, runId, parent } = workflowInfo();
    return { workflowId, runId, group: parent?.workflowId ?? workflowId, ticket: this.ticket + 1, shardIndex: this.shardIndex };
  }

  private ask(holder: SlotRequest) {
    return asker.requestJobSlot({ run: { modelId: this.run.modelId, roleArn: this.run.roleArn }, holder });
  }

  /** Holds the slot the quota workflow answered with, waiting for its grant if it was queued; null: no shared budget. */
  private async hold(answer: JobSlotAnswer | null, holder: SlotRequest, attempt: number): Promise<void> {
    if (!answer) return; // a worker without a Temporal client, or the budget unreachable: no shared budget
    const { ticket } = holder;
    this.slotsId = answer.slotsId;
    this.ticket = ticket;
    this.held = true;
    if (this.grantedTicket >= ticket) return;
    try {
      await this.display.waiting(answer.ahead, attempt);
      if (!patched(SLOT_REASK_PATCH)) {
        await condition(() => this.grantedTicket >= ticket);
      } else {
        const every = (answer.recheckSeconds ?? 900) * 1000; // ms
        while (!(await condition(() => this.grantedTicket >= ticket, every))) {
          // No grant for a while: the quota workflow may be gone with its queue (terminated by hand).
          // Asking again is idempotent: it restarts the workflow if need be, and says if the slot is ours already.
          const again = await this.ask(holder);
          if (!again || again.granted) break;
          await this.display.waiting(again.ahead, attempt);
        }
      }
    } finally {
      // Granted, or cancelled while waiting: either way the run no longer counts this wait.
      await CancellationScope.nonCancellable(async () => this.display.granted());
    }
  }

  /** The job under the slot; until `ended`, a release waits for it to end. */
  submitted(jobArn: string): void {
    if (this.held) this.jobArn = jobArn;
  }

  /** The job is terminal (or gone): the slot goes back at once. */
  async ended(): Promise<void> {
    this.jobArn = undefined;
    await this.release();
  }

  /**
   * Gives the slot back (or leaves the queue); a no-op when nothing is held. A job that may still be
   * active (stopped on cancel: Stopping counts against Bedrock's quota) is waited for first, within
   * a bound, so the next holder does not find the quota full. Call in a non-cancellable scope.
   */
  async release(): Promise<void> {
    if (!this.held || !this.slotsId) return;
    if (this.jobArn) {
      const jobArn = this.jobArn;
      this.jobArn = undefined;
      await jobEndWaiter(this.run.pollIntervalSeconds)
        .waitForJob({ jobArn })
        .catch((err: unknown) => log.warn('job slot released before its job was seen to end', { jobArn, error: String(err) }));
    }
    this.held = false;
    const { workflowId, runId } = workflowInfo();
    await getExternalWorkflowHandle(this.slotsId)
      .signal(releaseSlotSignal, { workflowId, runId, ticket: this.ticket })
      // The quota workflow gone (terminated by hand): nothing to give back to; its successor starts empty.
      .catch((err: unknown) => log.warn('job slot release not delivered', { slotsId: this.slotsId, error: String(err) }));
  }
}

/** Polls a stopped job until it ends, at most 30 minutes; then the slot is released anyway. */
function jobEndWaiter(pollIntervalSeconds: number) {
  const every = Math.min(pollIntervalSeconds, 30) * 1000; // ms
  return proxyActivities<Activities>({
    startToCloseTimeout: '20 seconds',
    scheduleToCloseTimeout: '30 minutes',
    retry: { initialInterval: every, backoffCoefficient: 1, maximumInterval: every },
  });
}
