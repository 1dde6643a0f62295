import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { startBatchRun } from '../../src/client/api';
import { waitFor } from '../../src/localstack';
import { RunInput, RunSummary } from '../../src/shared/types';
import { sampleRows, uploadCsv } from '../support/data';
import type { LocalStack } from '../support/localStack';
import type { RunningWorker } from '../support/worker';
import { readRunOutput } from '../support/output';
import { localStackWithWorker, textRun } from '../support/runs';

const env = localStackWithWorker({ inProgressMs: 1000 });
let stack: LocalStack;
let worker: RunningWorker;
beforeAll(() => {
  ({ stack, worker } = env);
});
beforeEach(() => stack.emulator.setFaults({}));

const input = (name: string): RunInput => textRun(name, { maxRecordsPerJob: 300, maxConcurrentJobs: 3 });

const runJobs = (name: string) => stack.emulator.stats().jobs.filter((j) => j.jobName.startsWith(`${name}-`));

test('a fault mix (throttled creates, 5% record errors, one Failed, one Expired, one Stopped job): every row accounted for, retries bounded', async () => {
  await uploadCsv(stack.s3, 's3://datasets/mix.csv', sampleRows(1800));
  stack.emulator.setFaults({
    throttleNextCreates: 4,
    recordErrorEvery: 20,
    failJobsNamed: ['-s00001-a1'],
    expireJobsNamed: ['-s00002-a1'],
    stopJobsNamed: ['-s00003-a1'],
  });
  const summary: RunSummary = await (await startBatchRun(worker.client, input('mix'))).result();

  const jobs = runJobs('mix');
  const byName = new Map(jobs.map((j) => [j.jobName.replace(/^mix-[0-9a-f]+-/, ''), j]));
  // Six shards; the Failed one resubmitted whole, the Expired and Stopped ones re-driven for what they left.
  expect([...byName.keys()].sort()).toEqual(['s00000-a1', 's00001-a1', 's00001-a2', 's00002-a1', 's00002-a2', 's00003-a1', 's00003-a2', 's00004-a1', 's00005-a1']);
  expect(byName.get('s00001-a1')!.status).toBe('Failed');
  expect(byName.get('s00002-a1')!.status).toBe('Expired');
  expect(byName.get('s00003-a1')!.status).toBe('Stopped');
  expect(byName.get('s00001-a2')!.recordCount).toBe(300);
  expect(byName.get('s00002-a2')!.recordCount).toBe(300);
  // The stopped job answered about half; the re-drive took the rest and its record errors, nothing it had answered.
  expect(byName.get('s00003-a2')!.recordCount).toBeGreaterThanOrEqual(150);
  expect(byName.get('s00003-a2')!.recordCount).toBeLessThan(300);

  const out = await readRunOutput(stack.s3, summary.outputUris);
  expect(out).toHaveLength(1800);
  expect(new Set(out.map((r) => r.record_id)).size).toBe(1800);
  const errors = out.filter((r) => r.error_code !== null);
  // Every row without an answer is a record error Bedrock returned; none is left unexplained or unsent.
  expect(new Set(errors.map((r) => r.error_code))).toEqual(new Set(['400']));
  expect(summary).toMatchObject({ rows: 1800, unanswered: 0, recordErrors: errors.length, succeeded: 1800 - errors.length, outcome: 'complete_with_errors' });
  expect(errors.length).toBeGreaterThan(0);
  expect(errors.length).toBeLessThan(1800 * 0.06);
}, 240_000);

test('a cancel that lands while a job is being created leaves no job running', async () => {
  await uploadCsv(stack.s3, 's3://datasets/cancel-create.csv', sampleRows(300));
  // Bedrock takes 3 s to answer Create: the cancel arrives while submitJob waits for it.
  stack.emulator.setFaults({ delayCreatesMs: 3000 });
  const handle = await startBatchRun(worker.client, input('cancel-create'), { workflowId: 'cancel-create' });
  const child = worker.client.workflow.getHandle('cancel-create/shard-0');
  await waitFor('a submit started', async () => {
    const pending = (await child.describe().catch(() => undefined))?.raw.pendingActivities ?? [];
    return pending.some((a) => /^submitJob(InSlot)?$/.test(a.activityType?.name ?? '') && a.lastStartedTime);
  }, 60_000, 50);
  expect(runJobs('cancel-create')).toEqual([]);
  await handle.cancel();
  const error = await handle.result().then(() => undefined, (err: unknown) => err);
  expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  // Before: stopJob ran before the create landed, found nothing, and the job ran on.
  const jobs = runJobs('cancel-create');
  expect(jobs).toHaveLength(1);
  expect(jobs[0].status).toMatch(/^Stopp(ing|ed)$/);
}, 120_000);
