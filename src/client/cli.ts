import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { activityDepsFrom, loadAppConfig } from '../config';
import { createS3Client } from '../io/s3';
import { ClientRunInput } from './localInput';
import { formatEstimate } from '../core/estimate';
import { getRunStatus, startBatchRun } from './api';
import { estimateRunInput } from './estimate';

const USAGE = `usage: batch <command> [options]

  start    --input <run.json | JSON>  [--workflow-id ID] [--wait] [--dry-run]   start a run (--dry-run: estimate only)
  estimate --input <run.json | JSON>  [--exact-tokens]            records, jobs, tokens and cost; submits nothing
  status <workflowId>                                           phase, shard and row counts, or the summary
  result <workflowId>                                           wait for the run and print its summary
  cancel <workflowId>                                           cancel a run (its Bedrock jobs are stopped)
  replay <history.json>... [--workflow-id ID]                   replay histories ("temporal workflow show --output json")
                                                                against this code; fails on nondeterminism

Environment: TEMPORAL_ADDRESS (localhost:7233), TEMPORAL_NAMESPACE (default), TEMPORAL_TASK_QUEUE;
estimate reads the dataset itself: AWS_REGION, AWS_ENDPOINT_URL_S3 and the AWS credential chain.`;

function readRunInput(arg: string): ClientRunInput {
  const text = arg.trim().startsWith('{') ? arg : readFileSync(arg, 'utf8');
  try {
    return JSON.parse(text) as ClientRunInput;
  } catch (err) {
    throw new Error(`--input is not valid JSON: ${(err as Error).message}`);
  }
}

export async function runCli(argv: string[], out: (line: string) => void = console.log): Promise<void> {
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
    },
  });
  if (!command || command === 'help' || command === '--help') return out(USAGE);
  if (command === 'replay') return replayFiles(positionals, values['workflow-id'], out);
  const config = loadAppConfig();
  if (command === 'estimate' || (command === 'start' && values['dry-run'])) {
    if (!values.input) throw new Error(`${command} needs --input`);
    const input = readRunInput(values.input);
    const deps = activityDepsFrom(config);
    try {
      const estimate = await estimateRunInput(deps, input, { exactTokens: values['exact-tokens'] });
      return out(formatEstimate(estimate, input.modelId));
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
      if (values.wait) out(JSON.stringify(await handle.result(), null, 2));
      return;
    }
    const workflowId = positionals[0];
    if (!workflowId) throw new Error(`${command} needs a workflow id\n${USAGE}`);
    if (command === 'status') return out(JSON.stringify(await getRunStatus(client, workflowId), null, 2));
    if (command === 'result') return out(JSON.stringify(await client.workflow.getHandle(workflowId).result(), null, 2));
    if (command === 'cancel') {
      await client.workflow.getHandle(workflowId).cancel();
      return out(`cancellation requested for ${workflowId}`);
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
  runCli(process.argv.slice(2)).catch((err: Error) => {
    console.error(`error: ${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}`);
    process.exit(1);
  });
}
