import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import {
  JOB_SLOTS_WORKFLOW,
  type JobSlotsInput,
  type SlotAnswer,
  type SlotRequest,
  accountOfRole,
  jobSlotsWorkflowId,
  requestSlotUpdate,
  slotLimitFor,
} from '../shared/jobSlots';
import { BATCH_MODEL, BATCH_ROLE } from '../shared/searchAttributes';
import type { ResolvedRun } from '../shared/types';
import { gate } from '../core/gate';
import type { ActivityDeps } from './deps';

export interface JobSlotRequest {
  run: Pick<ResolvedRun, 'modelId' | 'roleArn'>;
  holder: SlotRequest;
}

/** `slotsId` names the quota workflow to give the slot back to. */
export type JobSlotAnswer = SlotAnswer & { slotsId: string };

const DEFAULT_CHECK_SECONDS = 60;

/**
 * Updates one worker sends to one budget at once. The server refuses more than 10 in flight per
 * workflow (ResourceExhausted), and a window starting 20 shards in one task would ask 20 at once.
 */
const UPDATES_AT_ONCE = 4;

export function makeJobSlotActivities(deps: ActivityDeps) {
  const gates = new Map<string, ReturnType<typeof gate>>();
  const gateOf = (slotsId: string) => {
    if (!gates.has(slotsId)) gates.set(slotsId, gate(UPDATES_AT_ONCE));
    return gates.get(slotsId)!;
  };
  /**
   * Starts the quota workflow of the run's (account, Region, model) if none runs, with the limit
   * from config, and queues the shard there. Returns null from a worker built without a Temporal
   * client: its shards then run without a shared budget, as before it existed.
   */
  async function requestJobSlot({ run, holder }: JobSlotRequest): Promise<JobSlotAnswer | null> {
    const temporal = deps.temporal;
    if (!temporal) return null;
    const region = await deps.bedrock.config.region();
    const account = accountOfRole(run.roleArn);
    const slotsId = jobSlotsWorkflowId(account, region, run.modelId);
    const args: [JobSlotsInput] = [
      { account, region, modelId: run.modelId, limit: slotLimitFor(deps.defaults, run.modelId), checkSeconds: deps.defaults.jobSlotsCheckSeconds ?? DEFAULT_CHECK_SECONDS },
    ];
    // A running one keeps its own (perhaps live-changed) limit: the arguments count only at first start.
    await temporal.workflow.start(JOB_SLOTS_WORKFLOW, {
      workflowId: slotsId,
      taskQueue: Context.current().info.taskQueue,
      args,
      workflowIdConflictPolicy: 'USE_EXISTING',
      // Listed apart from runs and shards in the Web UI (BatchRole = "slots").
      typedSearchAttributes: [
        { key: BATCH_ROLE, value: 'slots' },
        { key: BATCH_MODEL, value: run.modelId },
      ],
      staticSummary: `job slots of ${run.modelId} in ${region} (account ${account})`,
    });
    // No run id: the update reaches whichever run is current after continue-as-new.
    const answer = await gateOf(slotsId)(() => temporal.workflow.getHandle(slotsId).executeUpdate(requestSlotUpdate, { args: [holder] }));
    return { ...answer, slotsId };
  }

  /** Which of these workflow runs are no longer running (closed, or gone from the server). */
  async function closedSlotHolders({ holders }: { holders: Array<{ workflowId: string; runId: string }> }) {
    const temporal = deps.temporal;
    if (!temporal) return { closed: [] };
    const closed: Array<{ workflowId: string; runId: string }> = [];
    for (const h of holders) {
      try {
        const described = await temporal.workflow.getHandle(h.workflowId, h.runId).describe();
        if (described.status.name !== 'RUNNING') closed.push(h);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) closed.push(h);
        else throw err;
      }
    }
    return { closed };
  }

  return { requestJobSlot, closedSlotHolders };
}
