import { setTimeout as sleep } from 'node:timers/promises';
import type { batchRun } from '../../workflows';
import { getRunStatus } from '../api';
import { readRunHistory } from '../runHistory';
import { runView } from '../runView';
import { stateKey, watchLine, watchScreen } from '../statusFormat';
import { type CliContext, intOption, needWorkflowId } from './context';
import { awaitOutcome } from './run';

/**
 * `watch <id>`: polls the run's progress until it ends. On a terminal the screen is redrawn in
 * place; otherwise (a log, CI) one line is printed per state change, so the log stays short.
 * Ends with the outcome line and returns the run's exit code, as `result` does.
 */
export async function watch(ctx: CliContext): Promise<number> {
  const id = needWorkflowId(ctx, 'watch');
  const intervalMs = intOption(ctx, 'interval', 2) * 1000;
  const client = await ctx.client();
  const prices = ctx.config().prices;
  let facts = await readRunHistory(client, id);
  let lastKey = '';
  let drawn = 0;
  for (;;) {
    const status = await getRunStatus(client, id);
    let view = runView(status, facts, prices, Date.now());
    const key = stateKey(view);
    if (key !== lastKey) {
      // Phases and pages (continue-as-new) change the history's facts: the estimate, the ETA's base.
      facts = await readRunHistory(client, id);
      view = runView(status, facts, prices, Date.now());
    }
    if (ctx.terminal) {
      const screen = watchScreen(view);
      ctx.terminal.write(`${drawn ? `\x1b[${drawn}A\x1b[0J` : ''}${screen.join('\n')}\n`);
      drawn = screen.length;
    } else if (key !== lastKey) {
      ctx.out(watchLine(view, new Date()));
    }
    lastKey = key;
    if (status.status !== 'RUNNING') break;
    await sleep(intervalMs);
  }
  return awaitOutcome(client.workflow.getHandle<typeof batchRun>(id).result(), ctx.options['accept-errors'] ?? false, ctx.out, false);
}
