import { startBatchRun } from '../../src/client/api';
import { waitFor } from '../../src/localstack';
import { progressQuery } from '../../src/shared/messages';
import { sampleRows, uploadCsv } from '../support/data';
import type { LocalStack } from '../support/localStack';
import { localStackWithWorker, textRun } from '../support/runs';
import type { RunningWorker } from '../support/worker';

// One job slot per model, held 40 s by the first shard's job: the second shard's submit waits on a full quota.
const env = localStackWithWorker({ maxActiveJobsPerModel: 1, inProgressMs: 40_000 });
let stack: LocalStack;
let worker: RunningWorker;
beforeAll(() => {
  ({ stack, worker } = env);
});

test("a shard whose submit keeps retrying shows in the run's progress, counted by state", async () => {
  await uploadCsv(stack.s3, 's3://datasets/stuck.csv', sampleRows(200));
  const handle = await startBatchRun(worker.client, textRun('stuck', { maxRecordsPerJob: 100, maxConcurrentJobs: 2 }), { workflowId: 'stuck' });
  const stuck = async () => (await handle.query(progressQuery)).shardStates;
  // Before: the progress query said nothing of it (only `batch status`, describing every shard, did).
  await waitFor('a shard reported stuck', async () => (await stuck()) !== undefined, 60_000, 500);
  const states = (await stuck())!;
  expect(states.counts).toEqual({ 'submit retrying (job quota full, access denied or throttled)': 1 });
  expect(states.shards).toEqual([{ shardIndex: expect.any(Number), state: expect.stringMatching(/^submit retrying/), since: expect.any(String) }]);
  await handle.cancel();
  await handle.result().catch(() => undefined);
  expect(stack.emulator.stats().jobsCreated).toBe(1);
}, 120_000);
