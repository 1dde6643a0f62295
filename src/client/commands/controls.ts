import { hostname, userInfo } from 'node:os';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { rootMessage } from '../../shared/errors';
import { pauseSubmissionUpdate, resumeSubmissionUpdate, setBudgetUpdate, setMaxConcurrentJobsUpdate } from '../../shared/messages';
import type { RunSettings } from '../../shared/types';
import { table } from '../format';
import { EXIT } from '../runResult';
import { type CliContext, needWorkflowId } from './context';

/** Who is asking, for the run's change log: `$USER@hostname`. */
export function operator(): string {
  let user = process.env.USER;
  try {
    user ||= userInfo().username;
  } catch {
    // No passwd entry (some containers): the host still says where the change came from.
  }
  return `${user || 'unknown'}@${hostname()}`;
}

/**
 * A number as typed, else the text itself: the run's validator is the one judge of a value, so a
 * typo reaches it and the operator reads the same reason the `temporal` CLI would get.
 */
function typed(raw: string | undefined): number | string | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return raw.trim() !== '' && Number.isFinite(n) ? n : raw;
}

export function settingsLines(id: string, s: RunSettings): string[] {
  return table([
    ['run', id],
    ['max jobs', `${s.maxConcurrentJobs} at once`],
    ['submission', s.paused ? `paused${s.pauseReason ? ` (${s.pauseReason})` : ''}` : 'submitting'],
    ['budget', s.budgetUsd === null ? 'none' : `USD ${s.budgetUsd}`],
  ]);
}

/** Sends one update; prints the settings it answers with, or the run's reason for refusing it (exit 1). */
async function control(ctx: CliContext, command: string, send: (id: string) => Promise<RunSettings>): Promise<number> {
  const id = needWorkflowId(ctx, command);
  try {
    for (const line of settingsLines(id, await send(id))) ctx.out(line);
    return EXIT.complete;
  } catch (err) {
    if (!(err instanceof WorkflowUpdateFailedError)) throw err;
    ctx.out(`rejected: ${rootMessage(err)}`);
    return EXIT.usage;
  }
}

/** `scale <id> <n>`: at most n jobs at once from the next shard start. */
export function scale(ctx: CliContext): Promise<number> {
  const n = typed(ctx.positionals[1]);
  if (n === undefined) throw new Error('scale needs a workflow id and a number of jobs, e.g. scale my-run 5');
  return control(ctx, 'scale', async (id) =>
    (await ctx.client()).workflow.getHandle(id).executeUpdate(setMaxConcurrentJobsUpdate, { args: [n as number, operator()] }),
  );
}

/** `pause <id> [--reason …]`: no new shard starts; running ones go on. */
export function pause(ctx: CliContext): Promise<number> {
  return control(ctx, 'pause', async (id) =>
    (await ctx.client()).workflow.getHandle(id).executeUpdate(pauseSubmissionUpdate, { args: [ctx.options.reason ?? null, operator()] }),
  );
}

export function resume(ctx: CliContext): Promise<number> {
  return control(ctx, 'resume', async (id) =>
    (await ctx.client()).workflow.getHandle(id).executeUpdate(resumeSubmissionUpdate, { args: [ctx.options.reason ?? null, operator()] }),
  );
}

/** `budget <id> <usd|none>`: the budget for the jobs submitted from now on; `none` lifts it. */
export function budget(ctx: CliContext): Promise<number> {
  const raw = ctx.positionals[1];
  if (raw === undefined) throw new Error('budget needs a workflow id and an amount in USD or "none", e.g. budget my-run 25');
  const usd = raw === 'none' ? null : typed(raw);
  return control(ctx, 'budget', async (id) =>
    (await ctx.client()).workflow.getHandle(id).executeUpdate(setBudgetUpdate, { args: [usd as number | null, operator()] }),
  );
}
