import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { startBatchRun } from '../../src/client/api';
import { runCli } from '../../src/client/cli';
import { waitFor } from '../../src/localstack';
import { progressQuery } from '../../src/shared/messages';
import { JOB_SLOTS_WORKFLOW, type JobSlotsInput, type SlotsView, jobSlotsWorkflowId, setLimitUpdate, slotsQuery } from '../../src/shared/jobSlots';
import { TASK_QUEUE } from '../../src/shared/types';
import { sampleRows, uploadCsv } from '../support/data';
import { REGION } from '../support/localStack';
import { exportHistories } from '../support/output';
import { CLAUDE_HAIKU, localStackWithWorker, textRun } from '../support/runs';

/**
 * Runs on one model share one budget of job slots across runs. The emulator's own quota (3) is
 * above the shared limit (2): the budget, not ServiceQuotaExceeded, is what keeps jobs at 2.
 */
const local = localStackWithWorker({ inProgressMs: 3000, maxActiveJobsPerModel: 3 });
const SLOTS_ID = jobSlotsWorkflowId('123456789012', REGION, CLAUDE_HAIKU);
const slotsHandle = () => local.worker.client.workflow.getHandle(SLOTS_ID);
const ledger = (): Promise<SlotsView> => slotsHandle().query(slotsQuery);
const activityTypes = async (workflowId: string) =>
  ((await local.worker.client.workflow.getHandle(workflowId).fetchHistory()).events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
const heldBy = (view: SlotsView, run: string) => view.holders.filter((h) => h.group === run).length;
const waitingIn = (view: SlotsView, run: string) => view.waiters.filter((h) => h.group === run).length;

beforeAll(async () => {
  Object.assign(process.env, local.stack.env);
  // Started here with a 2 s holder check (config says 60 s); the first run's shards then find it running.
  const input: JobSlotsInput = { account: '123456789012', region: REGION, modelId: CLAUDE_HAIKU, limit: 2, checkSeconds: 2 };
  await local.worker.client.workflow.start(JOB_SLOTS_WORKFLOW, { workflowId: SLOTS_ID, taskQueue: TASK_QUEUE, args: [input] });
  for (const name of ['slots-a', 'slots-b', 'slots-c', 'slots-d', 'slots-e', 'slots-f', 'slots-g']) await uploadCsv(local.stack.s3, `s3://datasets/${name}.csv`, sampleRows(name === 'slots-d' ? 600 : 400));
  for (const [name, rows] of [['gs-pool', 200], ['gs-occ-1', 100], ['gs-occ-2', 100], ['gs-cancel', 200]] as const) await uploadCsv(local.stack.s3, `s3://datasets/${name}.csv`, sampleRows(rows));
});

const run = (name: string) => textRun(name, { maxRecordsPerJob: 100, maxConcurrentJobs: 3 });

/** Samples the ledger until `until` settles; returns the most slots ever held, and whether both runs held one at once. */
async function sampleWhile<T>(until: Promise<T>, runs: [string, string]): Promise<{ result: T; maxHeld: number; sharedAtOnce: boolean }> {
  let done = false;
  let maxHeld = 0;
  let sharedAtOnce = false;
  const sampling = (async () => {
    while (!done) {
      const view = await ledger();
      maxHeld = Math.max(maxHeld, view.holders.length);
      if (heldBy(view, runs[0]) > 0 && heldBy(view, runs[1]) > 0) sharedAtOnce = true;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const result = await until.finally(() => {
    done = true;
  });
  await sampling;
  return { result, maxHeld, sharedAtOnce };
}

test('two runs of 4 shards, each allowed 3 jobs, never have more than the shared 2 in flight, and both complete', async () => {
  local.stack.emulator.resetStats();
  const client = local.worker.client;
  const [a, b] = await Promise.all([startBatchRun(client, run('slots-a'), { workflowId: 'slots-a' }), startBatchRun(client, run('slots-b'), { workflowId: 'slots-b' })]);
  const { result, maxHeld, sharedAtOnce } = await sampleWhile(Promise.all([a.result(), b.result()]), ['slots-a', 'slots-b']);
  expect(result.map((s) => s.outcome)).toEqual(['complete', 'complete']);
  const stats = local.stack.emulator.stats();
  expect(stats.peakActiveJobs).toBe(2);
  expect(maxHeld).toBe(2);
  // Fair: the second run got a slot while the first still had shards waiting.
  expect(sharedAtOnce).toBe(true);
  expect(stats.jobsCreated).toBe(8);
  // Every Create was accepted: no submit met ServiceQuotaExceeded.
  expect(stats.createRequests).toBe(stats.jobsCreated);
  expect(await ledger()).toMatchObject({ holders: [], waiters: [] });
  // Each shard asked for its slot and tried its submit in one step; a slot granted at once then
  // needed no separate submit, a queued one did (after its grant).
  const shards = await Promise.all(['slots-a', 'slots-b'].flatMap((r) => [0, 1, 2, 3].map((i) => activityTypes(`${r}/shard-${i}`))));
  for (const types of shards) expect(types.filter((t) => t === 'submitJobInSlot')).toHaveLength(1);
  const wentAtOnce = shards.filter((types) => !types.includes('submitJob')).length;
  expect(wentAtOnce).toBeGreaterThanOrEqual(2);
  expect(shards.length - wentAtOnce).toBeGreaterThanOrEqual(2);
  exportHistories(local.stack.temporal.address, ['slots-a', 'slots-a/shard-0', SLOTS_ID], 'job-slots__');
}, 180_000);

test('raising the limit live (batch slots <model> --limit 3) raises the peak', async () => {
  local.stack.emulator.resetStats();
  const handle = await startBatchRun(local.worker.client, run('slots-c'), { workflowId: 'slots-c' });
  await waitFor('two slots held', async () => heldBy(await ledger(), 'slots-c') === 2 && waitingIn(await ledger(), 'slots-c') > 0, 60_000, 50);
  expect(local.stack.emulator.stats().peakActiveJobs).toBeLessThanOrEqual(2);
  const lines: string[] = [];
  expect(await runCli(['slots', CLAUDE_HAIKU, '--limit', '3'], (l) => lines.push(l))).toBe(0);
  expect(lines[0]).toMatch(new RegExp(`^${SLOTS_ID.replace(/[.]/g, '\\.')} · limit 3 · 3 held · `));
  expect((await handle.result()).outcome).toBe('complete');
  const stats = local.stack.emulator.stats();
  expect(stats.peakActiveJobs).toBe(3);
  expect(stats.createRequests).toBe(stats.jobsCreated);
  await slotsHandle().executeUpdate(setLimitUpdate, { args: [2] });
}, 180_000);

test('cancelling a run gives its slots back: the other run proceeds, still within the limit', async () => {
  local.stack.emulator.resetStats();
  const client = local.worker.client;
  const d = await startBatchRun(client, run('slots-d'), { workflowId: 'slots-d' });
  await waitFor('slots-d holds both slots', async () => heldBy(await ledger(), 'slots-d') === 2, 60_000, 50);
  const e = await startBatchRun(client, run('slots-e'), { workflowId: 'slots-e' });
  await waitFor('slots-e waits', async () => waitingIn(await ledger(), 'slots-e') > 0, 60_000, 50);
  // A waiting shard is not failing: its current details say so, with its place in the queue.
  const waiter = (await ledger()).waiters.find((w) => w.group === 'slots-e')!;
  await waitFor('the waiter shows it waits', async () => {
    const meta = await client.workflow.getHandle(waiter.workflowId).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    return /\| status \| waiting for a job slot \(\d+ waiting ahead\) \|/.test(meta.currentDetails ?? '');
  }, 10_000, 50);

  await d.cancel();
  const error = await d.result().then(
    () => undefined,
    (err: unknown) => err,
  );
  expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  const after = await ledger();
  expect(heldBy(after, 'slots-d') + waitingIn(after, 'slots-d')).toBe(0);
  expect((await e.result()).outcome).toBe('complete');
  // A stopped job is waited for until it has ended before its slot goes to the next run.
  expect(local.stack.emulator.stats().peakActiveJobs).toBeLessThanOrEqual(2);
}, 180_000);

test('a holder terminated by hand has its slot taken back within the check interval', async () => {
  const handle = await startBatchRun(local.worker.client, run('slots-f'), { workflowId: 'slots-f' });
  await waitFor('slots-f holds a slot', async () => heldBy(await ledger(), 'slots-f') > 0, 60_000, 50);
  const victim = (await ledger()).holders.find((h) => h.group === 'slots-f')!;
  await local.worker.client.workflow.getHandle(victim.workflowId, victim.runId).terminate('test: a holder dies without giving its slot back');
  const terminatedAt = Date.now();
  // A terminated workflow runs no more code, so it cannot give the slot back: only the 2 s holder check can.
  await waitFor('the slot taken back', async () => !(await ledger()).holders.some((h) => h.workflowId === victim.workflowId && h.runId === victim.runId), 10_000, 50);
  expect(Date.now() - terminatedAt).toBeLessThan(2000 + 2000);
  // The run goes on with its other shards; the terminated one's rows carry the reason.
  expect((await handle.result()).outcome).toBe('incomplete');
  expect(await ledger()).toMatchObject({ holders: [], waiters: [] });
}, 180_000);

test("a run's pooled gather job takes a slot of the shared budget: it waits while other runs hold both, and the peak stays at the limit", async () => {
  const { stack, worker } = local;
  stack.emulator.resetStats();
  // Every `-a1` job stops at 40 of 100 records: gs-pool's two shards leave 60 each, one pooled job of 120 (`-gather-1`) takes them.
  await fetch(`${stack.emulator.url}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ partialJobsNamed: ['-a1'], partialCutPercent: 40 }) });
  try {
    const pool = await startBatchRun(worker.client, textRun('gs-pool', { maxRecordsPerJob: 120, maxConcurrentJobs: 2 }), { workflowId: 'gs-pool' });
    await waitFor('gs-pool holds both slots', async () => heldBy(await ledger(), 'gs-pool') === 2, 60_000, 50);
    // One-shard runs (nothing to gather with) queue behind it, and take its shards' slots as they end.
    const occupants = await Promise.all(['gs-occ-1', 'gs-occ-2'].map((name) => startBatchRun(worker.client, textRun(name), { workflowId: name })));
    await waitFor('both occupants wait', async () => waitingIn(await ledger(), 'gs-occ-1') + waitingIn(await ledger(), 'gs-occ-2') === 2, 30_000, 50);
    // The waiting shard is counted in its run's progress, and `batch status` of that run says so.
    const lines: string[] = [];
    await waitFor('status shows the waiting shard', async () => {
      lines.length = 0;
      await runCli(['status', 'gs-occ-1'], (l) => lines.push(l));
      return lines.some((l) => /^waiting +1 shard for a job slot$/.test(l));
    }, 10_000, 100);

    // The run itself asks for a slot for its pooled job: while both occupants hold theirs, it waits, and its progress says so.
    await waitFor('the pooled job waits for a slot', async () => {
      const view = await ledger();
      const progress = await pool.query(progressQuery);
      return view.waiters.some((w) => w.workflowId === 'gs-pool' && w.shardIndex === undefined) && /^pooled job waiting for a job slot \(0 waiting ahead\)$/.test(progress.gather?.waiting ?? '');
    }, 60_000, 50);
    const { result, maxHeld } = await sampleWhile(Promise.all([pool.result(), ...occupants.map((o) => o.result())]), ['gs-pool', 'gs-occ-1']);
    expect(result[0]).toMatchObject({ outcome: 'complete', rows: 200, succeeded: 200, unanswered: 0 });
    const stats = stack.emulator.stats();
    const pooled = stats.jobs.find((j) => j.jobName.startsWith('gs-pool-') && j.jobName.endsWith('-gather-1'));
    expect(pooled).toMatchObject({ status: 'Completed', recordCount: 120 });
    expect(maxHeld).toBeLessThanOrEqual(2);
    expect(stats.peakActiveJobs).toBe(2);
    expect(stats.createRequests).toBe(stats.jobsCreated);
    expect(await ledger()).toMatchObject({ holders: [], waiters: [] });
    // History carries the request's answer (queued, 0 ahead) and the grant: references and counts only.
    const events = (await worker.client.workflow.getHandle('gs-pool').fetchHistory()).events ?? [];
    const requests = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'requestJobSlot');
    expect(requests).toHaveLength(1);
    expect(events.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'jobSlotGranted')).toHaveLength(1);
    // Replay fixtures: EXPORT_HISTORIES=test/histories npx jest test/e2e/jobSlots -t 'pooled gather'
    exportHistories(stack.temporal.address, ['gs-pool', 'gs-occ-1', 'gs-occ-1/shard-0'], 'gather-slots__');
  } finally {
    await fetch(`${stack.emulator.url}/_emulator/faults`, { method: 'POST', body: JSON.stringify({}) });
  }
}, 180_000);

test("cancelling a run while its pooled job holds a slot stops the job and gives the slot back once it has ended", async () => {
  const { stack, worker } = local;
  stack.emulator.resetStats();
  await fetch(`${stack.emulator.url}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ partialJobsNamed: ['-a1'], partialCutPercent: 40 }) });
  try {
    const run = await startBatchRun(worker.client, textRun('gs-cancel', { maxRecordsPerJob: 120, maxConcurrentJobs: 2 }), { workflowId: 'gs-cancel' });
    const pooledJob = () => stack.emulator.stats().jobs.find((j) => j.jobName.startsWith('gs-cancel-') && j.jobName.endsWith('-gather-1'));
    await waitFor('the pooled job runs under a slot', async () => (await ledger()).holders.some((h) => h.workflowId === 'gs-cancel' && h.shardIndex === undefined) && pooledJob() !== undefined, 60_000, 50);
    await run.cancel();
    const error = await run.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(pooledJob()!.status).toBe('Stopped');
    expect(await ledger()).toMatchObject({ holders: [], waiters: [] });
  } finally {
    await fetch(`${stack.emulator.url}/_emulator/faults`, { method: 'POST', body: JSON.stringify({}) });
  }
}, 180_000);

test('shards waiting when the quota workflow is terminated by hand ask again, restart it, and the run completes', async () => {
  // Last in this file: the quota workflow it restarts has the worker's defaults, not the limit of 2 set above.
  await slotsHandle().executeUpdate(setLimitUpdate, { args: [1] });
  const handle = await startBatchRun(local.worker.client, run('slots-g'), { workflowId: 'slots-g' });
  await waitFor('slots-g has shards waiting', async () => waitingIn(await ledger(), 'slots-g') >= 1, 60_000, 50);
  const before = await slotsHandle().describe();
  await slotsHandle().terminate('test: the quota workflow is gone with its queue');
  // The waiters re-ask after 5 holder checks (10 s here); without that they would wait for good.
  expect((await handle.result()).outcome).toBe('complete');
  const after = await slotsHandle().describe();
  expect(after.runId).not.toBe(before.runId);
  expect(after.status.name).toBe('RUNNING');
}, 180_000);
