import { Client, Connection } from '@temporalio/client';
import { freePort } from '../../src/localstack';
import { TASK_QUEUE } from '../../src/shared/types';
import { sampleRows, uploadCsv } from '../support/data';
import { LocalStack, startLocalStack } from '../support/localStack';
import { textRun } from '../support/runs';
import { WorkerProcess, spawnWorkerProcess } from '../support/workerProcess';

// The Runtime (metrics exporter, logger) is once per process, so the real worker entry point runs
// in its own process here, configured only through its environment as an operator would.
let stack: LocalStack;
let worker: WorkerProcess;
let connection: Connection;
let metricsAddress: string;

beforeAll(async () => {
  stack = await startLocalStack({ inProgressMs: 300 });
  metricsAddress = `127.0.0.1:${await freePort()}`;
  worker = await spawnWorkerProcess(
    { ...stack.env, BATCH_METRICS_ADDRESS: metricsAddress, BATCH_LOG_FORMAT: 'json', BATCH_LOG_LEVEL: 'DEBUG' },
    90_000,
    5_000_000,
  );
  connection = await Connection.connect({ address: stack.temporal.address });
}, 180_000);

afterAll(async () => {
  await connection?.close();
  await worker?.kill('SIGTERM');
  await stack?.stop();
});

test('after a run the worker serves temporal_* metrics and logs JSON lines carrying run, shard and activity', async () => {
  await uploadCsv(stack.s3, 's3://datasets/observed.csv', sampleRows(200));
  const client = new Client({ connection });
  const handle = await client.workflow.start('batchRun', { taskQueue: TASK_QUEUE, workflowId: 'observed', args: [textRun('observed', { maxRecordsPerJob: 100 })] });
  await handle.result();

  const metrics = await (await fetch(`http://${metricsAddress}/metrics`)).text();
  expect(worker.output()).toContain(`Prometheus metrics on http://${metricsAddress}/metrics`);
  expect(metrics).toMatch(/^temporal_workflow_completed\{[^}]*workflow_type="batchRun"[^}]*\} 1$/m);
  expect(metrics).toMatch(/^temporal_activity_execution_latency_(bucket|count|sum)\{[^}]*activity_type="submitJob"/m);
  expect(metrics).toMatch(/task_queue="bedrock-batch"/);

  const entries = worker
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const shardActivity = entries.find((e) => e.activityType === 'submitJob' && typeof e.workflowId === 'string' && /^observed\/shard-1/.test(e.workflowId));
  expect(shardActivity).toMatchObject({ level: 'DEBUG', workflowType: 'bedrockJob', namespace: 'default', taskQueue: TASK_QUEUE });
  expect(shardActivity?.workflowRunId).toMatch(/^[0-9a-f-]{36}$/);
  expect(new Date(shardActivity?.time as string).getTime()).toBeGreaterThan(Date.now() - 600_000);
  const runLine = entries.find((e) => e.workflowId === 'observed' && e.workflowType === 'batchRun' && e.runId === handle.firstExecutionRunId);
  expect(runLine).toBeDefined();
});
