import { log } from '@temporalio/activity';
import type { SlotRequest } from '../shared/jobSlots';
import type { SubmitJobRequest, SubmittedJob, makeBedrockJobActivities } from './bedrockJobs';
import type { JobSlotAnswer, makeJobSlotActivities } from './jobSlots';

export interface SubmitInSlotRequest {
  submit: SubmitJobRequest;
  holder: SlotRequest;
}

/** `slot` null: no shared budget. `submitted` absent: not granted at once, or the one try to submit failed. */
export interface SubmitInSlotAnswer {
  slot: JobSlotAnswer | null;
  submitted?: SubmittedJob;
}

/**
 * A shard's slot request and, when the slot is free at once, its submit, in one activity: a
 * handoff from one job's end to the next job's submit then costs one activity dispatch and one
 * workflow task instead of two each. The submit is tried once; any failure (quota full, throttled,
 * rejected) is left to the shard's usual submit, whose retries and error types decide what it means.
 * Built over the worker's own slot and submit activities, so the budget's update gate stays one per worker.
 */
export function makeSlotSubmit(
  { requestJobSlot }: Pick<ReturnType<typeof makeJobSlotActivities>, 'requestJobSlot'>,
  { submitJob }: Pick<ReturnType<typeof makeBedrockJobActivities>, 'submitJob'>,
) {

  async function submitJobInSlot({ submit, holder }: SubmitInSlotRequest): Promise<SubmitInSlotAnswer> {
    const slot = await requestJobSlot({ run: submit.run, holder });
    if (slot && !slot.granted) return { slot };
    try {
      return { slot, submitted: await submitJob(submit) };
    } catch (err) {
      log.info('submit in the slot did not go through; the shard submits the usual way', { shardIndex: submit.shardIndex, error: String(err) });
      return { slot };
    }
  }

  return { submitJobInSlot };
}
