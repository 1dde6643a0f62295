import { Client, Connection } from '@temporalio/client';
import { startBatchRun } from '../../src/client/api';
import { RunInput } from '../../src/shared/types';
import { sampleRows, uploadCsv } from '../support/data';
import { LocalStack, startLocalStack } from '../support/localStack';
import { readRunOutput } from '../support/output';
import { WorkerProcess, spawnWorkerProcess } from '../support/workerProcess';
import { waitFor } from '../../src/localstack';

let stack: LocalStack;
let connection: Connection;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  stack = await startLocalStack({ inProgressMs: 3000 });
  connection = await Connection.connect({ address: stack.temporal.address });
}, 120_000);

afterAll(async () => {
  for (const w of workers) await w.kill('SIGKILL');
  await connection?.close();
  await stack?.stop();
});

test('a worker killed with SIGKILL mid-run: a new worker finishes it, no job paid twice, no row lost or doubled', async () => {
  const rows = sampleRows(2500);
  await uploadCsv(stack.s3, 's3://datasets/crash.csv', rows);
  const input: RunInput = {
    input: { s3Uri: 's3://datasets/crash.csv' },
    task: 'text',
    promptId: 'joke_about_topic',
    modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
    outputUri: 's3://results/crash',
    roleArn: 'arn:aws:iam::123456789012:role/BedrockBatchRole',
    maxRecordsPerJob: 500,
    maxConcurrentJobs: 2,
    pollIntervalSeconds: 1,
    runName: 'crash',
  };

  workers.push(await spawnWorkerProcess(stack.env));
  const client = new Client({ connection });
  const handle = await startBatchRun(client, input);

  // Kill while Bedrock jobs are in flight and more are still to be submitted.
  await waitFor('two jobs in flight', async () => stack.emulator.stats().jobsCreated >= 2, 120_000, 50);
  await workers[0].kill('SIGKILL');
  expect(workers[0].child.signalCode).toBe('SIGKILL');
  const createdBeforeRestart = stack.emulator.stats().jobsCreated;
  expect(createdBeforeRestart).toBeLessThan(5);

  workers.push(await spawnWorkerProcess(stack.env));
  const summary = await handle.result();

  expect(stack.emulator.stats().jobsCreated).toBe(5);
  expect(stack.emulator.stats().peakActiveJobs).toBeLessThanOrEqual(2);
  expect(summary).toMatchObject({ shards: 5, rows: 2500, succeeded: 2500 });
  const out = await readRunOutput(stack.s3, summary.outputUris);
  const ids = out.map((r) => r.id as string);
  expect(ids).toHaveLength(2500);
  expect(new Set(ids).size).toBe(2500);
  expect([...ids].sort()).toEqual(rows.map((r) => r.id).sort());
}, 300_000);
