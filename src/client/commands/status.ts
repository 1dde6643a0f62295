import { getRunStatus } from '../api';
import { EXIT } from '../runResult';
import { readRunHistory } from '../runHistory';
import { runView } from '../runView';
import { statusJson, statusLines } from '../statusFormat';
import { type CliContext, needWorkflowId } from './context';

/** `status <id> [--json]`: the run's progress while it runs, its summary or failure once it ended. */
export async function status(ctx: CliContext): Promise<number> {
  const id = needWorkflowId(ctx, 'status');
  const client = await ctx.client();
  const [status, facts] = await Promise.all([getRunStatus(client, id), readRunHistory(client, id)]);
  const view = runView(status, facts, ctx.config().prices, Date.now());
  if (ctx.options.json) ctx.out(statusJson(view, status.summary));
  else for (const line of statusLines(view)) ctx.out(line);
  return EXIT.complete;
}
