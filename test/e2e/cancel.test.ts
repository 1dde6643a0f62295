import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { startBatchRun } from '../../src/client/api';
import { waitFor } from '../../src/localstack';
import { RunInput } from '../../src/shared/types';
import { sampleRows, uploadCsv } from '../support/data';
import { LocalStack, startLocalStack } from '../support/localStack';
import { RunningWorker, startWorker } from '../support/worker';

let stack: LocalStack;
let worker: RunningWorker;

beforeAll(async () => {
  // Jobs that would run for a minute, so the run is certainly cancelled while they are InProgress.
  stack = await startLocalStack({ inProgressMs: 60_000 });
  worker = await startWorker(stack);
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

test('cancelling a run stops its running Bedrock jobs', async () => {
  await uploadCsv(stack.s3, 's3://datasets/cancel.csv', sampleRows(600));
  const input: RunInput = {
    input: { s3Uri: 's3://datasets/cancel.csv' },
    task: 'text',
    promptId: 'joke_about_topic',
    modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
    outputUri: 's3://results/cancel',
    roleArn: 'arn:aws:iam::123456789012:role/BedrockBatchRole',
    maxRecordsPerJob: 200,
    maxConcurrentJobs: 2,
    pollIntervalSeconds: 1,
    runName: 'cancel',
  };
  const handle = await startBatchRun(worker.client, input, { workflowId: 'cancel-1' });
  const inProgress = () => stack.emulator.stats().jobs.filter((j) => j.status === 'InProgress').length;
  await waitFor('two jobs in progress', async () => inProgress() === 2, 60_000, 50);

  await handle.cancel();
  const error = await handle.result().then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);

  // The children stop their jobs before the parent closes, so this holds right away.
  const stats = stack.emulator.stats();
  expect(stats.stopRequests).toBe(2);
  expect(stats.jobs.map((j) => j.status).sort()).toEqual(expect.arrayContaining([expect.stringMatching(/^Stopp(ing|ed)$/)]));
  expect(stats.jobs.filter((j) => !/^Stopp(ing|ed)$/.test(j.status))).toEqual([]);
  expect(stats.jobsCreated).toBe(2);
  const child = await worker.client.workflow.getHandle('cancel-1/shard-0').describe();
  expect(child.status.name).toBe('CANCELLED');
});
