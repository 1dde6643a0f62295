import { execFileSync } from 'node:child_process';
import { startBatchRun } from '../../src/client/api';
import { findTemporalBinary } from '../../src/localstack';
import { progressQuery } from '../../src/shared/messages';
import type { RunInput, RunSummary } from '../../src/shared/types';
import { sampleRows, uploadCsv } from '../support/data';
import type { LocalStack } from '../support/localStack';
import { exportHistories, readRunOutput } from '../support/output';
import { localStackWithWorker, textRun } from '../support/runs';
import type { RunningWorker } from '../support/worker';

/**
 * Small remainders gathered across shards: three shards of 100 records each leave fewer than
 * Bedrock's 100 unanswered, too few for a job of their own, but together enough for one pooled
 * job. Faults go over the emulator's HTTP controls.
 */
const env = localStackWithWorker();
let stack: LocalStack;
let worker: RunningWorker;
beforeAll(() => {
  ({ stack, worker } = env);
});
beforeEach(async () => {
  await setFaults({});
  stack.emulator.resetStats();
});

async function setFaults(faults: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${stack.emulator.url}/_emulator/faults`, { method: 'POST', body: JSON.stringify(faults) });
  expect(res.status).toBe(200);
}

// 300 rows in at most 120 a job: three shards of 100, and a pooled job may take 120.
const threeShards = (name: string, extra: Partial<RunInput> = {}) => textRun(name, { maxRecordsPerJob: 120, maxConcurrentJobs: 3, ...extra });
const jobsOf = (name: string) => stack.emulator.stats().jobs.filter((j) => j.jobName.startsWith(`${name}-`));

function expectEveryRowOnce(out: Array<Record<string, unknown>>, rows: number): void {
  expect(out).toHaveLength(rows);
  expect(new Set(out.map((r) => r.record_id)).size).toBe(rows);
}

test('gather: three shards each left with 40 unanswered records, one pooled job answers all 120, the run is complete; a reset pays nothing again', async () => {
  await uploadCsv(stack.s3, 's3://datasets/gather.csv', sampleRows(300));
  // Every first attempt ends PartiallyCompleted with 60 of its 100 records answered; the pooled job is not an `-a1`.
  await setFaults({ partialJobsNamed: ['-a1'], partialCutPercent: 60 });
  const handle = await startBatchRun(worker.client, threeShards('gather'), { workflowId: 'gather-1' });
  const summary: RunSummary = await handle.result();
  // Before: each shard kept its 40 rows JOB_PARTIALLY_COMPLETED and the run ended incomplete.
  expect(summary).toMatchObject({ outcome: 'complete', shards: 3, rows: 300, succeeded: 300, failed: 0, unanswered: 0 });
  expect(summary.shardsByStatus).toMatchObject({ succeeded: 3, partial: 0, failed: 0 });
  const jobs = jobsOf('gather');
  expect(jobs.map((j) => [j.jobName.replace(/^.*-(s\d+-a\d+|gather-\d+)$/, '$1'), j.status, j.recordCount]).sort()).toEqual([
    ['gather-1', 'Completed', 120],
    ['s00000-a1', 'PartiallyCompleted', 100],
    ['s00001-a1', 'PartiallyCompleted', 100],
    ['s00002-a1', 'PartiallyCompleted', 100],
  ]);
  expect(stack.emulator.stats().jobsCreated).toBe(4);

  const out = await readRunOutput(stack.s3, summary.outputUris);
  expectEveryRowOnce(out, 300);
  expect(out.every((r) => r.error_code === null && typeof r.response === 'string')).toBe(true);
  const poolId = jobs.find((j) => j.jobName.endsWith('-gather-1'))!.jobArn.split('/').pop();
  expect(out.filter((r) => r.job_id === poolId)).toHaveLength(120);
  // The pooled job's tokens are split by record: the run's tokens are the rows' tokens.
  expect(summary.inputTokens).toBe(out.reduce((n, r) => n + Number(r.input_tokens), 0));
  const progress = await handle.query(progressQuery);
  expect(progress.gather).toMatchObject({ shards: 3, records: 120, jobs: [expect.stringMatching(/-gather-1$/)] });
  // Replay fixture of the gather path: EXPORT_HISTORIES=test/histories npx jest test/e2e/gather -t 'gather:'
  exportHistories(stack.temporal.address, ['gather-1', 'gather-1/shard-0'], 'gather__');

  // A reset to the start redoes every step: the shards find their jobs, the run finds its pooled job; nothing is created.
  stack.emulator.resetStats();
  execFileSync(findTemporalBinary(), [
    'workflow', 'reset', '--address', stack.temporal.address, '-w', 'gather-1', '--type', 'FirstWorkflowTask', '--reason', 'test',
  ]);
  const again: RunSummary = await worker.client.workflow.getHandle('gather-1').result();
  expect(again).toMatchObject({ outcome: 'complete', rows: 300, succeeded: 300 });
  expect(stack.emulator.stats()).toMatchObject({ createRequests: 0, jobsCreated: 0 });
  expect(jobsOf('gather')).toHaveLength(4);
  expectEveryRowOnce(await readRunOutput(stack.s3, again.outputUris), 300);
}, 120_000);

test('remainders summing under 100 (10 record errors in each of 3 shards) go to the small-remainder option: on demand', async () => {
  await uploadCsv(stack.s3, 's3://datasets/gather-small.csv', sampleRows(300));
  await setFaults({ recordErrorEvery: 10 });
  const input = threeShards('gather-small', { smallRemainder: 'on-demand', onDemandRequestsPerSecond: 20 });
  const summary: RunSummary = await (await startBatchRun(worker.client, input, { workflowId: 'gather-small' })).result();
  expect(summary).toMatchObject({ outcome: 'complete', rows: 300, succeeded: 300, recordErrors: 0, onDemand: { answered: 30, rejected: 0 } });
  expect(stack.emulator.stats()).toMatchObject({ jobsCreated: 3, runtime: { invokeRequests: 30, repeatedAnswers: 0 } });
  expect(jobsOf('gather-small').some((j) => j.jobName.includes('-gather-'))).toBe(false);
  expectEveryRowOnce(await readRunOutput(stack.s3, summary.outputUris), 300);
}, 120_000);

test('remainders summing under 100 with error-rows: no pooled job, the rows keep their errors and each shard says why', async () => {
  await uploadCsv(stack.s3, 's3://datasets/gather-errors.csv', sampleRows(300));
  await setFaults({ recordErrorEvery: 10 });
  const summary: RunSummary = await (await startBatchRun(worker.client, threeShards('gather-errors'))).result();
  expect(summary).toMatchObject({ outcome: 'complete_with_errors', rows: 300, succeeded: 270, recordErrors: 30, unanswered: 0 });
  expect(stack.emulator.stats()).toMatchObject({ jobsCreated: 3, runtime: { invokeRequests: 0 } });
  expect(summary.partialShards).toHaveLength(3);
  for (const shard of summary.partialShards!) {
    expect(shard.message).toMatch(/10 record\(s\) left without an answer were not re-driven: fewer than 100 records across the run were left without an answer \(30 in 3 shard\(s\)\)/);
  }
  const failed = (await readRunOutput(stack.s3, summary.outputUris)).filter((r) => r.error_code !== null);
  expect(failed).toHaveLength(30);
}, 120_000);
