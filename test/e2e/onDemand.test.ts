import { startBatchRun } from '../../src/client/api';
import type { RunSummary } from '../../src/shared/types';
import { sampleRows, uploadCsv } from '../support/data';
import type { LocalStack } from '../support/localStack';
import { exportHistories, readRunOutput } from '../support/output';
import { localStackWithWorker, textRun } from '../support/runs';
import type { RunningWorker } from '../support/worker';

/**
 * A shard left with fewer unanswered records than a batch job takes (100): the run option
 * decides between on-demand calls and error rows saying why. Faults go over the emulator's HTTP
 * controls, as a test against a stack it does not hold would send them.
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

test('on-demand: a job that ends PartiallyCompleted leaves ~75 records, answered on demand; the run is complete and the calls are billed apart', async () => {
  await uploadCsv(stack.s3, 's3://datasets/od-partial.csv', sampleRows(150));
  await setFaults({ partialJobsNamed: ['od-partial'] });
  const handle = await startBatchRun(worker.client, textRun('od-partial', { smallRemainder: 'on-demand', onDemandRequestsPerSecond: 20 }), { workflowId: 'od-partial' });
  const summary: RunSummary = await handle.result();
  const stats = stack.emulator.stats();
  expect(stats.jobs.map((j) => j.status)).toEqual(['PartiallyCompleted']);
  const batchAnswered = 150 - stats.runtime.invokeRequests;
  // Before: these rows stayed JOB_PARTIALLY_COMPLETED and the run ended incomplete.
  expect(summary).toMatchObject({ outcome: 'complete', rows: 150, succeeded: 150, failed: 0 });
  expect(stats.runtime).toMatchObject({ answered: stats.runtime.invokeRequests, rejected: 0, repeatedAnswers: 0 });
  expect(stats.runtime.invokeRequests).toBeGreaterThan(50);
  expect(stats.runtime.invokeRequests).toBeLessThan(100);
  expect(summary.onDemand).toMatchObject({ answered: stats.runtime.invokeRequests, rejected: 0 });
  expect(summary.onDemand!.inputTokens).toBeGreaterThan(0);
  expect(summary.onDemand!.cost.onDemandCost).toBeGreaterThan(0);
  expect(summary.onDemand!.cost).not.toHaveProperty('batchCost');

  const out = await readRunOutput(stack.s3, summary.outputUris);
  expect(out).toHaveLength(150);
  expect(out.every((r) => r.error_code === null && typeof r.response === 'string')).toBe(true);
  const onDemandRows = out.filter((r) => r.job_id === 'on-demand');
  expect(onDemandRows).toHaveLength(stats.runtime.invokeRequests);
  expect(out.filter((r) => r.job_id !== 'on-demand')).toHaveLength(batchAnswered);
  // The batch tokens (priced at batch rate) leave the on-demand ones out; the rows carry both.
  const rowTokens = out.reduce((n, r) => n + Number(r.input_tokens), 0);
  expect(summary.inputTokens + summary.onDemand!.inputTokens).toBe(rowTokens);
  // Replay fixture of the on-demand path (the shard's workflow takes it): EXPORT_HISTORIES=test/histories npx jest test/e2e/onDemand -t on-demand
  exportHistories(stack.temporal.address, ['od-partial/shard-0'], 'on-demand__');
}, 60_000);

test('error-rows: 15 record errors stay error rows naming why, no on-demand call is made, the run is complete_with_errors', async () => {
  await uploadCsv(stack.s3, 's3://datasets/od-errors.csv', sampleRows(150));
  await setFaults({ recordErrorEvery: 10 });
  const summary: RunSummary = await (await startBatchRun(worker.client, textRun('od-errors', { smallRemainder: 'error-rows' }))).result();
  expect(summary).toMatchObject({ outcome: 'complete_with_errors', rows: 150, succeeded: 135, recordErrors: 15, unanswered: 0 });
  expect(summary.onDemand).toBeUndefined();
  expect(stack.emulator.stats()).toMatchObject({ jobsCreated: 1, runtime: { invokeRequests: 0, converseRequests: 0 } });
  expect(summary.partialShards![0].message).toMatch(/15 record\(s\) left without an answer are fewer than Bedrock's minimum of 100 per job, so they were not re-driven/);
  const failed = (await readRunOutput(stack.s3, summary.outputUris)).filter((r) => r.error_code !== null);
  expect(failed).toHaveLength(15);
  for (const r of failed) expect(r.error_message).toMatch(/^Emulated record error/);
}, 60_000);

test('on-demand with Converse: record errors are answered through the Converse route', async () => {
  await uploadCsv(stack.s3, 's3://datasets/od-converse.csv', sampleRows(120));
  await setFaults({ recordErrorEvery: 10 });
  const input = textRun('od-converse', { smallRemainder: 'on-demand', onDemandRequestsPerSecond: 20, invocationType: 'Converse' });
  const summary: RunSummary = await (await startBatchRun(worker.client, input)).result();
  expect(summary).toMatchObject({ outcome: 'complete', rows: 120, succeeded: 120, recordErrors: 0, onDemand: { answered: 12, rejected: 0 } });
  expect(stack.emulator.stats().runtime).toMatchObject({ converseRequests: 12, invokeRequests: 0, repeatedAnswers: 0 });
}, 60_000);
