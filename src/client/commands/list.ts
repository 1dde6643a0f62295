import type { WorkflowExecutionInfo } from '@temporalio/client';
import { BATCH_MODEL, BATCH_OUTCOME, BATCH_PHASE, BATCH_ROWS_DONE } from '../../shared/searchAttributes';
import { count, table } from '../format';
import { listQuery } from '../listQuery';
import { EXIT } from '../runResult';
import { type CliContext, intOption } from './context';

interface ListedRun {
  workflowId: string;
  status: string;
  model?: string;
  phase?: string;
  outcome?: string;
  rowsDone?: number;
  startTime: string;
}

function listed(info: WorkflowExecutionInfo): ListedRun {
  const attrs = info.typedSearchAttributes;
  return {
    workflowId: info.workflowId,
    status: info.status.name,
    model: attrs.get(BATCH_MODEL),
    phase: attrs.get(BATCH_PHASE),
    outcome: attrs.get(BATCH_OUTCOME),
    rowsDone: attrs.get(BATCH_ROWS_DONE),
    startTime: info.startTime.toISOString(),
  };
}

/** `list [--status S] [--phase P] [--outcome O] [--model M] [--since 7d|date] [--limit N] [--json]`: batch runs, newest first. */
export async function list(ctx: CliContext): Promise<number> {
  const { phase, outcome, model, since, status } = ctx.options;
  const query = listQuery({ phase, outcome, model, since, status });
  const limit = intOption(ctx, 'limit', 20);
  const client = await ctx.client();
  const runs: ListedRun[] = [];
  for await (const info of client.workflow.list({ query, pageSize: Math.min(limit, 1000) })) {
    runs.push(listed(info));
    if (runs.length >= limit) break;
  }
  if (ctx.options.json) {
    ctx.out(JSON.stringify(runs, null, 2));
    return EXIT.complete;
  }
  if (!runs.length) {
    ctx.out(`no batch runs match (${query})`);
    return EXIT.complete;
  }
  const header = ['WORKFLOW ID', 'STATUS', 'MODEL', 'PHASE/OUTCOME', 'ROWS DONE', 'STARTED'];
  const rows = runs.map((r) => [
    r.workflowId,
    r.status.toLowerCase(),
    r.model ?? '-',
    r.outcome ?? r.phase ?? '-',
    r.rowsDone === undefined ? '-' : count(r.rowsDone),
    r.startTime.replace('T', ' ').slice(0, 19),
  ]);
  for (const line of table([header, ...rows])) ctx.out(line);
  return EXIT.complete;
}
