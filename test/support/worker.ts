import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, bundleWorkflowCode } from '@temporalio/worker';
import { createBedrockRuntimeClient, loadPriceTable, loadRunDefaults } from '../../src/config';
import { TASK_QUEUE } from '../../src/shared/types';
import type { HubSettings } from '../../src/io/huggingface';
import { type BatchWorker, createBatchWorker } from '../../src/worker';
import type { JobEventsStats } from '../../src/events/jobEvents';
import { startTestJobEventsConsumer } from './jobEventsConsumer';
import { CREDENTIALS, type LocalStack, REGION } from './localStack';

export const TEMPLATES_DIR = resolve(__dirname, '../../templates');

export interface RunningWorker {
  client: Client;
  /** The workflow code the worker runs, for replaying histories against it. */
  workflowBundle: { code: string };
  /** With `jobEvents`: what the consumer did with the events it read. */
  jobEventStats?: () => JobEventsStats;
  stop(): Promise<void>;
}

/** An in-process worker and a client on the stack's Temporal server. */
let runtimeInstalled = false;

/**
 * `threads`: preprocessing parts run in that many worker threads, as the worker process does by default.
 * `jobEvents`: read the stack's job-events queue and signal shards, as the worker process does with BATCH_JOB_EVENTS_QUEUE_URL.
 */
export async function startWorker(
  stack: LocalStack,
  hub: HubSettings = { endpoint: 'http://127.0.0.1:9' },
  opts: { threads?: number; jobEvents?: boolean } = {},
): Promise<RunningWorker> {
  if (!runtimeInstalled) {
    // Expected workflow failures (bad-input tests) would otherwise flood the test output.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: quietLogger });
  const native = await NativeConnection.connect({ address: stack.temporal.address });
  // On-demand calls reach the same emulator, as a worker process's AWS_ENDPOINT_URL_BEDROCK makes them.
  const bedrockRuntime = createBedrockRuntimeClient({ region: REGION, endpoint: stack.emulator.url, credentials: CREDENTIALS });
  const worker: BatchWorker = await createBatchWorker({
    connection: native,
    namespace: 'default',
    taskQueue: TASK_QUEUE,
    deps: {
      s3: stack.s3,
      bedrock: stack.bedrock,
      bedrockRuntime,
      templatesDir: TEMPLATES_DIR,
      defaults: loadRunDefaults(),
      prices: loadPriceTable(),
      hub,
      ...(opts.threads ? { threads: { threads: opts.threads, s3: stack.s3Settings } } : {}),
    },
    workflowBundle,
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: stack.temporal.address });
  const client = new Client({ connection });
  if (opts.jobEvents && !stack.eventsQueueUrl) throw new Error('jobEvents needs a stack started with jobEvents');
  const events = opts.jobEvents ? startTestJobEventsConsumer(stack, client, { waitSeconds: 1 }) : undefined;
  return {
    client,
    workflowBundle,
    jobEventStats: events?.stats,
    async stop() {
      await events?.stop();
      worker.shutdown();
      await running;
      await native.close();
      await connection.close();
      bedrockRuntime.destroy();
    },
  };
}

const noop = () => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: console.error };
