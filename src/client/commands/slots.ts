import type { Client } from '@temporalio/client';
import { waitingAhead } from '../../core/jobSlotLedger';
import { JOB_SLOTS_WORKFLOW, type SlotsView, setLimitUpdate, slotLimitFor, slotsQuery } from '../../shared/jobSlots';
import { EXIT } from '../runResult';
import { type CliContext, intOption } from './context';

/**
 * `slots [<model> | <job-slots id>] [--limit N] [--json]`: the shared job-slot budgets (one quota
 * workflow per account, Region and model): limit, holders, waiters in grant order. `--limit` sets
 * the limit live; raising it grants waiters at once, lowering it lets holders finish.
 */
export async function slots(ctx: CliContext): Promise<number> {
  const client = await ctx.client();
  const target = ctx.positionals[0];
  const ids = await slotsWorkflowIds(client, target);
  if (ids.length === 0) {
    if (ctx.options.limit !== undefined) throw new Error(`no job-slot workflow for ${target ?? 'any model'} runs yet; it starts with the first job, and then takes --limit`);
    const limit = target ? slotLimitFor(ctx.config().defaults, target) : ctx.config().defaults.jobSlotsPerModel;
    ctx.out(`no job-slot workflow ${target ? `for ${target} ` : ''}runs yet; the first job starts one with the limit from config (${limit ?? 20})`);
    return EXIT.complete;
  }
  if (ctx.options.limit !== undefined && ids.length > 1) throw new Error(`--limit needs one budget, but ${target} matches:\n  ${ids.join('\n  ')}\nname one by its id`);
  const views: Array<{ id: string; view: SlotsView }> = [];
  for (const id of ids) {
    const handle = client.workflow.getHandle(id);
    const view = ctx.options.limit !== undefined ? await handle.executeUpdate(setLimitUpdate, { args: [intOption(ctx, 'limit', 1)] }) : await handle.query(slotsQuery);
    views.push({ id, view });
  }
  if (ctx.options.json) ctx.out(JSON.stringify(views, null, 2));
  else for (const { id, view } of views) for (const line of slotsLines(id, view, Date.now())) ctx.out(line);
  return EXIT.complete;
}

/** Running quota workflows: the one named, or those of a model (any account or Region), or all. */
async function slotsWorkflowIds(client: Client, target: string | undefined): Promise<string[]> {
  if (target?.startsWith('job-slots/')) return [target];
  const ids: string[] = [];
  const query = `WorkflowType = '${JOB_SLOTS_WORKFLOW}' AND ExecutionStatus = 'Running'`;
  for await (const wf of client.workflow.list({ query })) {
    if (!target || wf.workflowId.endsWith(`/${target}`)) ids.push(wf.workflowId);
  }
  return ids.sort();
}

export function slotsLines(id: string, view: SlotsView, now: number): string[] {
  const age = (since: number) => `${Math.max(0, Math.round((now - since) / 1000))}s`;
  const lines = [`${id} · limit ${view.limit} · ${view.holders.length} held · ${view.waiters.length} waiting`];
  for (const h of view.holders) lines.push(`  held      ${h.workflowId} (run ${h.group}) for ${age(h.since)}`);
  const queued = view.waiters.map((w) => ({ w, ahead: waitingAhead(view, w) })).sort((a, b) => a.ahead - b.ahead);
  for (const { w, ahead } of queued) lines.push(`  waiting   ${w.workflowId} (run ${w.group}) for ${age(w.since)}, ${ahead} ahead`);
  return lines;
}
