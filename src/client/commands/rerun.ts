import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { BATCH_RUN_WORKFLOW } from '../../shared/types';
import { startBatchRun } from '../api';
import { EXIT } from '../runResult';
import { readRunHistory } from '../runHistory';
import { type CliContext, intOption, needWorkflowId } from './context';
import { awaitOutcome } from './run';

/** `<id>-rerun-<n>` with the first n not taken; a rerun of a rerun counts on from the original id. */
async function nextRerunId(client: Client, workflowId: string): Promise<string> {
  const base = workflowId.replace(/-rerun-\d+$/, '');
  for (let n = 1; ; n++) {
    const candidate = `${base}-rerun-${n}`;
    try {
      await client.workflow.getHandle(candidate).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return candidate;
      throw err;
    }
  }
}

/**
 * `rerun <id>`: starts the earlier run's input again under a new workflow id. The run key (input
 * and its ETag, template, model, parameters, shard sizes, output) is the same, so every job the
 * earlier run submitted is found by name: Completed jobs are harvested without paying again, and
 * only records no job answered are sent, as new attempts. The attempt limit is not part of the
 * key; it is raised by one (or set with --max-job-attempts) so a shard whose attempts the earlier
 * run used up can still send its unanswered records once more.
 */
export async function rerun(ctx: CliContext): Promise<number> {
  const id = needWorkflowId(ctx, 'rerun');
  const client = await ctx.client();
  const description = await client.workflow.getHandle(id).describe();
  if (description.type !== BATCH_RUN_WORKFLOW) throw new Error(`${id} is a ${description.type} workflow; rerun the ${BATCH_RUN_WORKFLOW} it belongs to`);
  if (description.status.name === 'RUNNING') {
    throw new Error(`${id} is still running, and a rerun would follow the same Bedrock jobs; wait for it (batch watch ${id}) or cancel it (batch cancel ${id}) first`);
  }
  const facts = await readRunHistory(client, id);
  if (!facts.input) throw new Error(`the history of ${id} holds no run input (it was started without one), so there is nothing to run again`);
  const earlier = facts.run?.maxJobAttempts ?? facts.input.maxJobAttempts;
  const maxJobAttempts = ctx.options['max-job-attempts'] !== undefined ? intOption(ctx, 'max-job-attempts', 1) : earlier === undefined ? undefined : earlier + 1;
  const input = { ...facts.input, ...(maxJobAttempts === undefined ? {} : { maxJobAttempts }) };
  const workflowId = ctx.options['workflow-id'] ?? (await nextRerunId(client, id));
  const handle = await startBatchRun(client, input, { workflowId, taskQueue: ctx.config().temporal.taskQueue });
  const key = facts.run ? ` (run key ${facts.run.runKey}: jobs of ${id} are reused, only unanswered records are sent)` : '';
  ctx.out(`started ${handle.workflowId}, a rerun of ${id}${key}`);
  return ctx.options.wait ? awaitOutcome(handle.result(), ctx.options['accept-errors'] ?? false, ctx.out) : EXIT.complete;
}
