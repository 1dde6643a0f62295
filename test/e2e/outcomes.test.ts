import { execFileSync } from 'node:child_process';
import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetModelInvocationJobCommand } from '@aws-sdk/client-bedrock';
import { WorkflowFailedError } from '@temporalio/client';
import { startBatchRun } from '../../src/client/api';
import { rootMessage } from '../../src/shared/errors';
import { progressQuery } from '../../src/shared/messages';
import { findTemporalBinary, waitFor } from '../../src/localstack';
import { listObjects, parseS3Uri } from '../../src/io/s3';
import { RunInput, RunSummary } from '../../src/shared/types';
import { sampleRows, uploadCsv } from '../support/data';
import type { LocalStack } from '../support/localStack';
import { exportHistories, readRunOutput } from '../support/output';
import { localStackWithWorker, textRun } from '../support/runs';
import type { RunningWorker } from '../support/worker';

// Jobs take 6 s, so a cancel lands while they are InProgress with well under a third of their records done.
const env = localStackWithWorker({ inProgressMs: 6000 });
let stack: LocalStack;
let worker: RunningWorker;
beforeAll(() => {
  ({ stack, worker } = env);
});
beforeEach(() => stack.emulator.setFaults({}));

const input = (name: string): RunInput => textRun(name, { maxRecordsPerJob: 300, maxConcurrentJobs: 2 });

async function deleteUnder(s3: S3Client, prefixUri: string): Promise<number> {
  let n = 0;
  for await (const o of listObjects(s3, prefixUri)) {
    const { bucket, key } = parseS3Uri(o.uri);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    n++;
  }
  return n;
}

/** Jobs the emulator created after `before` (its stats keep every job it ever had). */
function jobsSince(before: Set<string>) {
  return stack.emulator.stats().jobs.filter((j) => !before.has(j.jobArn));
}
const knownJobs = () => new Set(stack.emulator.stats().jobs.map((j) => j.jobArn));

function expectEveryRowOnce(out: Array<Record<string, unknown>>, rows: number): void {
  expect(out).toHaveLength(rows);
  expect(new Set(out.map((r) => r.record_id)).size).toBe(rows);
}

test('a rerun after a cancel pays only for the records the stopped jobs did not answer, and completes', async () => {
  await uploadCsv(stack.s3, 's3://datasets/rerun-cancel.csv', sampleRows(600));
  const earlier = knownJobs();
  const first = await startBatchRun(worker.client, input('rerun-cancel'), { workflowId: 'rerun-cancel-1' });
  const inProgress = () => jobsSince(earlier).filter((j) => j.status === 'InProgress').length;
  await waitFor('two jobs in progress', async () => inProgress() === 2, 60_000, 50);
  await first.cancel();
  await first.result().catch(() => undefined);
  const stopped = jobsSince(earlier);
  expect(stopped.map((j) => j.status)).toEqual(['Stopped', 'Stopped']);
  const answeredBefore = new Map<string, number>();
  for (const job of stopped) {
    const got = await stack.bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: job.jobArn }));
    answeredBefore.set(job.jobName, got.successRecordCount ?? 0);
  }
  const beforeRerun = knownJobs();

  // Before: the rerun reused the Stopped jobs, submitted nothing and ended "Completed" with rows MISSING_OUTPUT.
  const summary: RunSummary = await (await startBatchRun(worker.client, input('rerun-cancel'), { workflowId: 'rerun-cancel-2' })).result();
  expect(summary).toMatchObject({ rows: 600, succeeded: 600, failed: 0, outcome: 'complete' });
  const created = jobsSince(beforeRerun);
  // Each stopped shard gets one job of just its unanswered records (attempt 2).
  expect(created.map((j) => j.jobName.slice(-3)).sort()).toEqual(['-a2', '-a2']);
  for (const job of created) {
    const before = answeredBefore.get(job.jobName.replace(/-a2$/, '-a1'));
    expect(before).toBeDefined();
    expect(job.recordCount).toBe(300 - before!);
  }
  const out = await readRunOutput(stack.s3, summary.outputUris);
  expectEveryRowOnce(out, 600);
  expect(out.every((r) => r.error_code === null && typeof r.response === 'string')).toBe(true);
  // Replay fixtures of the re-drive path: EXPORT_HISTORIES=test/histories npx jest test/e2e/outcomes -t cancel
  exportHistories(stack.temporal.address, ['rerun-cancel-2', 'rerun-cancel-2/shard-0'], 'redrive__');
});

test('a rerun whose completed jobs lost their outputs resubmits those records instead of harvesting nothing', async () => {
  await uploadCsv(stack.s3, 's3://datasets/lost-outputs.csv', sampleRows(300));
  const first = await (await startBatchRun(worker.client, input('lost-outputs'), { workflowId: 'lost-outputs-1' })).result();
  expect(first.outcome).toBe('complete');
  const runUri = first.manifestUri.replace(/\/output\/_manifest\.json$/, '');
  expect(await deleteUnder(stack.s3, `${runUri}/bedrock-output/`)).toBeGreaterThan(0);
  const beforeRerun = knownJobs();

  // Before: the rerun ended Completed with every row MISSING_OUTPUT.
  const summary = await (await startBatchRun(worker.client, input('lost-outputs'), { workflowId: 'lost-outputs-2' })).result();
  expect(summary).toMatchObject({ rows: 300, succeeded: 300, outcome: 'complete' });
  expect(jobsSince(beforeRerun).map((j) => [j.jobName.slice(-3), j.recordCount])).toEqual([['-a2', 300]]);
  expectEveryRowOnce(await readRunOutput(stack.s3, summary.outputUris), 300);
});

test('a rerun of a completed run reuses its jobs and pays for nothing', async () => {
  await uploadCsv(stack.s3, 's3://datasets/rerun-done.csv', sampleRows(300));
  await (await startBatchRun(worker.client, input('rerun-done'), { workflowId: 'rerun-done-1' })).result();
  const beforeRerun = knownJobs();
  const summary = await (await startBatchRun(worker.client, input('rerun-done'), { workflowId: 'rerun-done-2' })).result();
  expect(summary).toMatchObject({ rows: 300, succeeded: 300, outcome: 'complete' });
  expect(jobsSince(beforeRerun)).toEqual([]);
});

test('temporal workflow reset of a run whose shards are still running completes without paying twice', async () => {
  await uploadCsv(stack.s3, 's3://datasets/reset.csv', sampleRows(600));
  const earlier = knownJobs();
  const first = await startBatchRun(worker.client, input('reset'), { workflowId: 'reset-1' });
  await waitFor('two jobs in progress', async () => jobsSince(earlier).filter((j) => j.status === 'InProgress').length === 2, 60_000, 50);
  // Before: the reset run failed with WorkflowExecutionAlreadyStartedError, the old shard workflows still holding their ids.
  execFileSync(findTemporalBinary(), [
    'workflow', 'reset', '--address', stack.temporal.address, '-w', 'reset-1', '-r', first.firstExecutionRunId, '--type', 'FirstWorkflowTask', '--reason', 'test',
  ]);
  const summary: RunSummary = await worker.client.workflow.getHandle('reset-1').result();
  expect(summary).toMatchObject({ rows: 600, succeeded: 600, outcome: 'complete' });
  const jobs = jobsSince(earlier);
  expect(jobs.map((j) => [j.jobName.slice(-3), j.status])).toEqual([['-a1', 'Completed'], ['-a1', 'Completed']]);
  expectEveryRowOnce(await readRunOutput(stack.s3, summary.outputUris), 600);
});

test("a run whose staging files vanish mid-run fails in bounded time, naming what is missing, instead of retrying forever", async () => {
  await uploadCsv(stack.s3, 's3://datasets/vanished.csv', sampleRows(600));
  const earlier = knownJobs();
  const handle = await startBatchRun(worker.client, input('vanished'), { workflowId: 'vanished' });
  await waitFor('two jobs in progress', async () => jobsSince(earlier).filter((j) => j.status === 'InProgress').length === 2, 60_000, 50);
  const { runKey } = await handle.query(progressQuery);
  // Before: the shards retried "shard manifest not found" without end and the run stayed RUNNING.
  await deleteUnder(stack.s3, `s3://results/vanished/${runKey}/`);
  const error = await handle.result().then(() => undefined, (err: unknown) => err);
  expect(error).toBeInstanceOf(WorkflowFailedError);
  expect(rootMessage(error)).toMatch(/shard manifest not found|the output holds \d+ rows for 600 input rows/);
}, 120_000);
