import { existsSync, readFileSync } from 'node:fs';
import { activityDepsFrom } from '../../config';
import { formatEstimate } from '../../core/estimate';
import { createS3Client } from '../../io/s3';
import { rootMessage } from '../../shared/errors';
import type { RunSummary } from '../../shared/types';
import type { batchRun } from '../../workflows';
import { startBatchRun } from '../api';
import { estimateRunInput } from '../estimate';
import type { ClientRunInput } from '../localInput';
import { EXIT, causeChain, exitCodeOfFailure, exitCodeOfSummary, outcomeLine } from '../runResult';
import { type CliContext, needWorkflowId } from './context';

/** `--input`: a run input file, or the JSON itself. */
export function readRunInput(arg: string): ClientRunInput {
  const trimmed = arg.trim();
  // A file of that name wins; anything else is taken as JSON (so `[1,2]` or `null` gets the object error below).
  const isFile = existsSync(trimmed);
  const text = isFile ? readFileSync(trimmed, 'utf8') : arg;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    const what = isFile ? `${trimmed} is not valid JSON` : '--input is not valid JSON, nor a file that exists';
    throw new Error(`${what}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    const got = Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : `a ${typeof parsed}`;
    throw new Error(`--input must be one JSON object, the run input (see samples/run-text.json), but it is ${got}`);
  }
  return parsed as ClientRunInput;
}

/** Waits for a run and prints a first line saying how it ended (root cause first), then the summary (unless `withSummary` is false); returns the exit code. */
export async function awaitOutcome(result: Promise<RunSummary>, acceptErrors: boolean, out: (line: string) => void, withSummary = true): Promise<number> {
  try {
    const summary = await result;
    out(outcomeLine(summary));
    if (withSummary) out(JSON.stringify(summary, null, 2));
    return exitCodeOfSummary(summary, acceptErrors);
  } catch (err) {
    const code = exitCodeOfFailure(err);
    out(`run ${code === EXIT.cancelled ? 'cancelled' : 'failed'}: ${rootMessage(err)}`);
    out(`  cause chain: ${causeChain(err)}`);
    return code;
  }
}

function needInput(ctx: CliContext, command: string): ClientRunInput {
  if (!ctx.options.input) throw new Error(`${command} needs --input`);
  return readRunInput(ctx.options.input);
}

export async function estimate(ctx: CliContext, command = 'estimate'): Promise<number> {
  const input = needInput(ctx, command);
  const deps = activityDepsFrom(ctx.config());
  try {
    const e = await estimateRunInput(deps, input, { exactTokens: ctx.options['exact-tokens'] });
    ctx.out(formatEstimate(e, input.modelId));
    return EXIT.complete;
  } finally {
    deps.s3.destroy();
    deps.bedrock.destroy();
  }
}

export async function start(ctx: CliContext): Promise<number> {
  if (ctx.options['dry-run']) return estimate(ctx, 'start');
  const input = needInput(ctx, 'start');
  const config = ctx.config();
  const client = await ctx.client();
  const s3 = 'file' in input.input ? createS3Client(config.s3) : undefined;
  const handle = await startBatchRun(client, input, { workflowId: ctx.options['workflow-id'], taskQueue: config.temporal.taskQueue, s3 }).finally(() => s3?.destroy());
  ctx.out(`started ${handle.workflowId}`);
  return ctx.options.wait ? awaitOutcome(handle.result(), ctx.options['accept-errors'] ?? false, ctx.out) : EXIT.complete;
}

export async function result(ctx: CliContext): Promise<number> {
  const id = needWorkflowId(ctx, 'result');
  const client = await ctx.client();
  return awaitOutcome(client.workflow.getHandle<typeof batchRun>(id).result(), ctx.options['accept-errors'] ?? false, ctx.out);
}

export async function cancel(ctx: CliContext): Promise<number> {
  const id = needWorkflowId(ctx, 'cancel');
  await (await ctx.client()).workflow.getHandle(id).cancel();
  ctx.out(`cancellation requested for ${id}`);
  return EXIT.complete;
}
