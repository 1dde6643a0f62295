import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { activityDepsFrom, loadAppConfig } from '../config';
import { createS3Client } from '../io/s3';
import { ClientRunInput } from './localInput';
import { cleanupRun } from './cleanup';
import { formatEstimate } from '../core/estimate';
import { getRunStatus, startBatchRun } from './api';
import { estimateRunInput } from './estimate';
import { EXIT, causeChain, exitCodeOfFailure, exitCodeOfSummary, outcomeLine } from './runResult';
import { rootMessage } from '../shared/errors';
import type { RunSummary } from '../shared/types';
import type { batchRun } from '../workflows';

const USAGE = `usage: batch <command> [options]

  start    --input <run.json | JSON>  [--workflow-id ID] [--wait [--accept-errors]] [--dry-run]
                                                                start a run (--dry-run: estimate only)
  estimate --input <run.json | JSON>  [--exact-tokens]            records, jobs, tokens and cost; submits nothing
  status <workflowId>                                           phase, shard and row counts, or the summary
  result <workflowId> [--accept-errors]                         wait for the run and print its summary
  cancel <workflowId>                                           cancel a run (its Bedrock jobs are stopped)
  cleanup <workflowId> [--dry-run] [--yes] [--all]              list a run's files per prefix; --yes deletes its staging
                                                                files (and a failed or cancelled run's partial output),
                                                                --all a completed run's output and summary too
  replay <history.json>... [--workflow-id ID]                   replay histories ("temporal workflow show --output json")
                                                                against this code; fails on nondeterminism

Exit codes of start --wait and result: 0 complete, 2 complete with record errors (0 with
--accept-errors), 3 incomplete (rows without an answer), 4 failed, 5 cancelled, 1 bad usage.

Environment: TEMPORAL_ADDRESS (localhost:7233), TEMPORAL_NAMESPACE (default), TEMPORAL_TASK_QUEUE;
estimate and cleanup reach S3 themselves: AWS_REGION, AWS_ENDPOINT_URL_S3 and the AWS credential chain.`;

function readRunInput(arg: string): ClientRunInput {
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

/** Waits for a run and prints its summary with a first line saying how it ended; returns the exit code. */
async function awaitOutcome(result: Promise<RunSummary>, acceptErrors: boolean, out: (line: string) => void): Promise<number> {
  try {
    const summary = await result;
    out(outcomeLine(summary));
    out(JSON.stringify(summary, null, 2));
    return exitCodeOfSummary(summary, acceptErrors);
  } catch (err) {
    out(`run failed: ${rootMessage(err)}`);
    out(`  cause chain: ${causeChain(err)}`);
    return exitCodeOfFailure(err);
  }
}

/** Runs one CLI command; resolves to the process exit code (see USAGE). */
export async function runCli(argv: string[], out: (line: string) => void = console.log): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      input: { type: 'string' },
      'workflow-id': { type: 'string' },
      wait: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      'exact-tokens': { type: 'boolean' },
      'accept-errors': { type: 'boolean' },
      yes: { type: 'boolean' },
      all: { type: 'boolean' },
    },
  });
  const acceptErrors = values['accept-errors'] ?? false;
  if (!command || command === 'help' || command === '--help') {
    out(USAGE);
    return EXIT.complete;
  }
  if (command === 'replay') {
    await replayFiles(positionals, values['workflow-id'], out);
    return EXIT.complete;
  }
  const config = loadAppConfig();
  if (command === 'estimate' || (command === 'start' && values['dry-run'])) {
    if (!values.input) throw new Error(`${command} needs --input`);
    const input = readRunInput(values.input);
    const deps = activityDepsFrom(config);
    try {
      const estimate = await estimateRunInput(deps, input, { exactTokens: values['exact-tokens'] });
      out(formatEstimate(estimate, input.modelId));
      return EXIT.complete;
    } finally {
      deps.s3.destroy();
      deps.bedrock.destroy();
    }
  }
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  try {
    if (command === 'start') {
      if (!values.input) throw new Error('start needs --input');
      const input = readRunInput(values.input);
      const s3 = 'file' in input.input ? createS3Client(config.s3) : undefined;
      const handle = await startBatchRun(client, input, { workflowId: values['workflow-id'], taskQueue: config.temporal.taskQueue, s3 }).finally(() => s3?.destroy());
      out(`started ${handle.workflowId}`);
      // Awaited here: returned as a bare promise, the finally below would close the connection under it.
      return values.wait ? await awaitOutcome(handle.result(), acceptErrors, out) : EXIT.complete;
    }
    const workflowId = positionals[0];
    if (!workflowId) throw new Error(`${command} needs a workflow id\n${USAGE}`);
    if (command === 'status') {
      out(JSON.stringify(await getRunStatus(client, workflowId), null, 2));
      return EXIT.complete;
    }
    if (command === 'result') return await awaitOutcome(client.workflow.getHandle<typeof batchRun>(workflowId).result(), acceptErrors, out);
    if (command === 'cancel') {
      await client.workflow.getHandle(workflowId).cancel();
      out(`cancellation requested for ${workflowId}`);
      return EXIT.complete;
    }
    if (command === 'cleanup') {
      const s3 = createS3Client(config.s3);
      // Only --yes deletes, and --dry-run overrides it: by default cleanup lists.
      const options = { delete: Boolean(values.yes) && !values['dry-run'], all: values.all ?? false };
      await cleanupRun(client, s3, workflowId, options, out).finally(() => s3.destroy());
      return EXIT.complete;
    }
    throw new Error(`unknown command "${command}"\n${USAGE}`);
  } finally {
    await connection.close();
  }
}

/** Replays recorded histories against the workflow code of this checkout, offline. */
async function replayFiles(files: string[], workflowId: string | undefined, out: (line: string) => void): Promise<void> {
  if (!files.length) throw new Error('replay needs at least one history file');
  const { Worker } = await import('@temporalio/worker');
  for (const file of files) {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { workflowId?: string; history?: unknown; events?: unknown };
    // Accepts the temporal CLI's output ({events}) and our fixtures ({workflowId, history}).
    const history = doc.history ?? doc;
    const id = workflowId ?? doc.workflowId;
    if (!id) throw new Error(`${file}: pass --workflow-id (child ids derive from it, so the default would not replay)`);
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../workflows') }, history, id);
    out(`${file}: replayed ${id} without nondeterminism`);
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`error: ${causeChain(err)}`);
      process.exitCode = EXIT.usage;
    },
  );
}
