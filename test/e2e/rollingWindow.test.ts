import { ListModelInvocationJobsCommand } from '@aws-sdk/client-bedrock';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { startBatchRun } from '../../src/client/api';
import { slotUse } from '../../src/core/slotUse';
import { waitFor } from '../../src/localstack';
import { sampleRows, uploadCsv } from '../support/data';
import { exportHistories, exportRunHistory, readRunOutput } from '../support/output';
import { localStackWithWorker, textRun } from '../support/runs';

// Jobs of 1.5 s unless a test names some slower (faults.jobMsNamed): uneven durations, as in real runs.
const env = localStackWithWorker({ inProgressMs: 1500 });
beforeAll(() => Object.assign(process.env, env.stack.env));
afterEach(() => env.stack.emulator.setFaults({}));

const stats = () => env.stack.emulator.stats();
const jobsOf = (name: string) => stats().jobs.filter((j) => j.jobName.startsWith(`${name}-`));
const client = () => env.worker.client;

async function start(name: string, rows: number, extra: Parameters<typeof textRun>[1]) {
  await uploadCsv(env.stack.s3, `s3://datasets/${name}.csv`, sampleRows(rows));
  env.stack.emulator.resetStats();
  return startBatchRun(client(), textRun(name, { maxRecordsPerJob: 100, ...extra }), { workflowId: name });
}

/** The event types of one run of `workflowId`. */
async function eventTypes(workflowId: string, runId: string): Promise<string[]> {
  const history = await client().workflow.getHandle(workflowId, runId).fetchHistory();
  return (history.events ?? []).map((e) => temporal.api.enums.v1.EventType[e.eventType ?? 0]);
}

test('pages of 3 with 3 slots: the window refills across continue-as-new while a slow job runs, and every row is written once', async () => {
  // Shard 0 of the first page runs 9 s, the others 1.5 s: a page that drained would hold 2 slots
  // empty for ~7 s; a rolling window refills each within a poll (1 s), a collect and a start.
  env.stack.emulator.setFaults({ jobMsNamed: ['-s00000-a1=9000', '-s00004-a1=9000'] });
  const run = await start('rw-fill', 900, { maxConcurrentJobs: 3, shardsPerPage: 3 });
  const summary = await run.result();

  expect(summary).toMatchObject({ outcome: 'complete', rows: 900, succeeded: 900 });
  expect(stats()).toMatchObject({ createRequests: 9, jobsCreated: 9, peakActiveJobs: 3 });
  const use = slotUse(stats().activeTimeline, 3, 9);
  // Refilling a slot takes one poll (1 s) plus a collect and a child start; a drained page here would take ~7 s.
  expect(use.longestShortfallMs).toBeLessThan(4500);
  const rows = await readRunOutput(env.stack.s3, summary.outputUris);
  expect(rows).toHaveLength(900);
  expect(new Set(rows.map((r) => r.record_id)).size).toBe(900);

  // The first page continued as new while its shards were still running (no child completion in it).
  const first = await eventTypes('rw-fill', run.firstExecutionRunId);
  expect(first.at(-1)).toMatch(/CONTINUED_AS_NEW/);
  expect(first.filter((t) => /CHILD_WORKFLOW_EXECUTION_STARTED/.test(t))).toHaveLength(3);
  expect(first.filter((t) => /CHILD_WORKFLOW_EXECUTION_COMPLETED/.test(t))).toHaveLength(0);
  exportRunHistory(env.stack.temporal.address, 'rw-fill', run.firstExecutionRunId, 'rolling-window__rw-fill-page-1');
  exportHistories(env.stack.temporal.address, ['rw-fill', 'rw-fill/shard-0'], 'rolling-window__');
}, 180_000);

test("a shard collecting its output holds no job seat; its re-drive waits for one and goes before new shards", async () => {
  // 2 seats, 4 shards of 200 records. Shard 0's job ends PartiallyCompleted at ~1.5 s with 100
  // records unanswered: its seat goes to shard 2 while it collects, and its re-drive must wait for
  // shard 1's 6 s job to end. Then it goes before shard 3.
  env.stack.emulator.setFaults({ partialJobsNamed: ['-s00000-a1'], jobMsNamed: ['-s00001-a1=6000', '-s00002-a1=6000'] });
  const run = await start('rw-seats', 800, { maxConcurrentJobs: 2, maxRecordsPerJob: 200, shardsPerPage: 2 });
  const summary = await run.result();

  expect(summary).toMatchObject({ outcome: 'complete', rows: 800, succeeded: 800 });
  expect(stats()).toMatchObject({ jobsCreated: 5, peakActiveJobs: 2 });
  const times = await jobTimes('rw-seats');
  // Shard 2 started on shard 0's seat, while shard 0 collected (a shard holding its seat to the end would start it after the re-drive).
  expect(times['s00002-a1'].created).toBeLessThan(times['s00000-a2'].created);
  // The re-drive waited for a seat (shard 1's end), and went before shard 3.
  expect(times['s00000-a2'].created).toBeGreaterThanOrEqual(times['s00001-a1'].ended);
  expect(times['s00000-a2'].created).toBeLessThan(times['s00003-a1'].created);
  const shard0 = await client().workflow.getHandle('rw-seats/shard-0').fetchHistory();
  const signals = (shard0.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'jobSeatGranted');
  expect(signals).toHaveLength(1);
  const rows = await readRunOutput(env.stack.s3, summary.outputUris);
  expect(new Set(rows.map((r) => r.record_id)).size).toBe(800);
  exportHistories(env.stack.temporal.address, ['rw-seats', 'rw-seats/shard-0'], 'window-job-seats__');
}, 180_000);

/** Each of the run's jobs by `sNNNNN-aN`: when Bedrock created it and when it ended. */
async function jobTimes(name: string): Promise<Record<string, { created: number; ended: number }>> {
  const listed = await env.stack.bedrock.send(new ListModelInvocationJobsCommand({ nameContains: name, maxResults: 100 }));
  const out: Record<string, { created: number; ended: number }> = {};
  for (const j of listed.invocationJobSummaries ?? []) {
    const key = /-(s\d+-a\d+)$/.exec(j.jobName ?? '')?.[1];
    if (key) out[key] = { created: j.submitTime!.getTime(), ended: (j.endTime ?? j.lastModifiedTime)!.getTime() };
  }
  return out;
}

test('cancelling after a continue-as-new stops every running job, the carried ones too', async () => {
  // Pages of 2, 3 slots: page 1 starts shards 0 and 1 and continues as new; page 2 starts shard 2.
  env.stack.emulator.setFaults({ jobMsNamed: ['rw-cancel-=120000'] });
  const run = await start('rw-cancel', 600, { maxConcurrentJobs: 3, shardsPerPage: 2 });
  const inProgress = () => jobsOf('rw-cancel').filter((j) => j.status === 'InProgress').length;
  await waitFor('three jobs in progress', async () => inProgress() === 3, 60_000, 50);
  const described = await client().workflow.getHandle('rw-cancel').describe();
  expect(described.runId).not.toBe(run.firstExecutionRunId);

  await client().workflow.getHandle('rw-cancel').cancel();
  const error = await run.result().then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  // The run waits for its shards to stop their jobs before it closes, so this holds right away.
  expect(stats()).toMatchObject({ jobsCreated: 3, stopRequests: 3 });
  expect(jobsOf('rw-cancel').filter((j) => !/^Stopp(ing|ed)$/.test(j.status))).toEqual([]);
  for (const i of [0, 1, 2]) {
    const child = await client().workflow.getHandle(`rw-cancel/shard-${i}`).describe();
    expect([i, child.status.name]).toEqual([i, 'CANCELLED']);
  }
}, 180_000);
