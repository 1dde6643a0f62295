import { readFileSync } from 'node:fs';
import { createS3Client } from '../../io/s3';
import { cleanupRun } from '../cleanup';
import { EXIT } from '../runResult';
import { type CliContext, needWorkflowId } from './context';

/** `cleanup <id>`: lists a run's files per prefix; only --yes deletes, and --dry-run overrides it. */
export async function cleanup(ctx: CliContext): Promise<number> {
  const id = needWorkflowId(ctx, 'cleanup');
  const s3 = createS3Client(ctx.config().s3);
  const options = { delete: Boolean(ctx.options.yes) && !ctx.options['dry-run'], all: ctx.options.all ?? false };
  await cleanupRun(await ctx.client(), s3, id, options, ctx.out).finally(() => s3.destroy());
  return EXIT.complete;
}

/** `replay <history.json>...`: replays recorded histories against the workflow code of this checkout, offline. */
export async function replay(ctx: CliContext): Promise<number> {
  const files = ctx.positionals;
  if (!files.length) throw new Error('replay needs at least one history file');
  const { Worker } = await import('@temporalio/worker');
  for (const file of files) {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { workflowId?: string; history?: unknown; events?: unknown };
    // Accepts the temporal CLI's output ({events}) and our fixtures ({workflowId, history}).
    const history = doc.history ?? doc;
    const id = ctx.options['workflow-id'] ?? doc.workflowId;
    if (!id) throw new Error(`${file}: pass --workflow-id (child ids derive from it, so the default would not replay)`);
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, history, id);
    ctx.out(`${file}: replayed ${id} without nondeterminism`);
  }
  return EXIT.complete;
}
