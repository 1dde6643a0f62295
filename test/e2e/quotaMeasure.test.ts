import { startBatchRun } from '../../src/client/api';
import { waitFor } from '../../src/localstack';
import { JOB_SLOTS_WORKFLOW, type JobSlotsInput, jobSlotsWorkflowId, setLimitUpdate, slotsQuery } from '../../src/shared/jobSlots';
import { TASK_QUEUE } from '../../src/shared/types';
import { sampleRows, uploadCsv } from '../support/data';
import { REGION } from '../support/localStack';
import { CLAUDE_HAIKU, localStackWithWorker, textRun } from '../support/runs';
import { activeAt, heldBefore, historyChain, jobSpans, peakActive, slotLog, waitingBefore } from '../support/schedulingMeasures';

/**
 * Issue 10, measure "Quota across runs": two runs of 15 shards (15 jobs at once each allowed)
 * under a shared limit of 20 jobs on one model. The emulator's own quota is set to the same 20,
 * so a breach of the shared budget would show as a ServiceQuotaExceeded answer (counted in
 * stats().quotaRefusals) rather than pass unseen.
 *
 * Fair share: with both runs waiting, each is entitled to 20 / 2 = 10 slots. Nothing can take a
 * running Bedrock job's slot away, so a run may hold more than 10 from grants made before the
 * other run waited; the measure checked is that the excess is never added to:
 *   whenever the quota workflow grants run X a slot while run Y has a shard waiting (a request the
 *   quota workflow answered "not granted" and has not granted yet, by the order of its history's
 *   events), X held fewer than 10 slots before that grant (ledger rebuilt from the same history:
 *   grants less releases) and had fewer than 10 jobs active in the emulator at that moment
 *   (its jobs' submitTime..endTime).
 * The time Y waited while X had more than 10 jobs active (the excess draining) is printed.
 *
 * So that the slots are contested from the first grant whatever the machine's load (a run that
 * finished preparing a couple of seconds before the other would otherwise take 15 slots with no one
 * waiting, and the check would have nothing to check), the quota workflow holds the limit at 1
 * until both runs have queued at least 10 shards, then it is set to 20 (setLimit, as
 * `batch slots <model> --limit 20` does).
 */
const local = localStackWithWorker({ inProgressMs: 3000, maxActiveJobsPerModel: 20 });
const SLOTS_ID = jobSlotsWorkflowId('123456789012', REGION, CLAUDE_HAIKU);
const RUNS = ['quota-a', 'quota-b'] as const;
const FAIR_SHARE = 10;

beforeAll(async () => {
  Object.assign(process.env, local.stack.env);
  const input: JobSlotsInput = { account: '123456789012', region: REGION, modelId: CLAUDE_HAIKU, limit: 1, checkSeconds: 5 };
  await local.worker.client.workflow.start(JOB_SLOTS_WORKFLOW, { workflowId: SLOTS_ID, taskQueue: TASK_QUEUE, args: [input] });
  for (const name of RUNS) await uploadCsv(local.stack.s3, `s3://datasets/${name}.csv`, sampleRows(1500));
});

test('two runs of 15 under a shared limit of 20: peak ≤ 20, no quota refusal, both complete, no grant past the fair share while the other run waits', async () => {
  const { stack, worker } = local;
  // Uneven job lengths (3–7 s by shard), so slots free one at a time and each grant is a choice between the runs.
  stack.emulator.setFaults({ jobMsNamed: Array.from({ length: 15 }, (_, i) => `-s${String(i).padStart(5, '0')}-a1=${3000 + (i % 5) * 1000}`) });
  stack.emulator.resetStats();
  const handles = await Promise.all(RUNS.map((name) => startBatchRun(worker.client, textRun(name, { maxRecordsPerJob: 100, maxConcurrentJobs: 15 }), { workflowId: name })));
  const slots = worker.client.workflow.getHandle(SLOTS_ID);
  await waitFor(
    'both runs to queue 10 shards',
    async () => {
      const view = await slots.query(slotsQuery);
      return RUNS.every((r) => view.waiters.filter((w) => w.group === r).length >= 10);
    },
    90_000,
    100,
  );
  expect((await slots.executeUpdate(setLimitUpdate, { args: [20] })).holders).toHaveLength(20);
  const summaries = await Promise.all(handles.map((h) => h.result()));

  // Both finish, every row answered.
  for (const s of summaries) expect(s).toMatchObject({ outcome: 'complete', rows: 1500, succeeded: 1500 });

  // The emulator's peak for the model is within the shared limit, and no Create met its quota.
  const stats = stack.emulator.stats();
  const spans = jobSpans(stats.jobs, [...RUNS]);
  expect(spans).toHaveLength(30);
  expect(spans.every((s) => Number.isFinite(s.end))).toBe(true);
  expect(stats.jobs.every((j) => j.modelId === CLAUDE_HAIKU)).toBe(true);
  expect(stats.peakActiveJobs).toBeLessThanOrEqual(20);
  expect(peakActive(spans)).toBeLessThanOrEqual(20);
  // The limit was what held jobs back: 30 jobs wanted at once, 20 ran at once.
  expect(peakActive(spans)).toBe(20);
  expect(stats.quotaRefusals).toBe(0);
  expect(stats.createRequests).toBe(stats.jobsCreated);

  // Fairness, from the quota workflow's history and the emulator's job times.
  const [current] = (await historyChain(worker.client, SLOTS_ID)).slice(-1);
  const log = slotLog(current);
  expect(log.grants).toHaveLength(30);
  let contested = 0;
  const breaches: string[] = [];
  for (const g of log.grants) {
    const [other] = RUNS.filter((r) => r !== g.group);
    if (waitingBefore(log, other, g.id).length === 0) continue;
    contested++;
    const held = heldBefore(log, g.group, g.id);
    const active = activeAt(spans, g.atMs, g.group);
    if (held >= FAIR_SHARE || active >= FAIR_SHARE) breaches.push(`${g.workflowId} granted at event ${g.id} holding ${held} (${active} active) while ${other} waited`);
  }
  expect(breaches).toEqual([]);
  // The check had something to check: slots were handed out while a run waited.
  expect(contested).toBeGreaterThanOrEqual(5);

  // Both runs waited at some point, and every wait ended in a grant.
  const waits = log.requests.filter((r) => !r.grantedAtOnce);
  for (const run of RUNS) expect(waits.some((w) => w.group === run)).toBe(true);
  expect(waits.every((w) => w.grantedMs !== undefined)).toBe(true);

  // Figures: how long shards waited, and how long the other run held more than its share meanwhile (excess from before the wait, draining).
  let overShareMs = 0;
  let maxOther = 0;
  for (const w of waits) {
    const [other] = RUNS.filter((r) => r !== w.group);
    for (let t = w.acceptedMs; t < w.grantedMs!; t += 50) {
      const a = activeAt(spans, t, other);
      maxOther = Math.max(maxOther, a);
      if (a > FAIR_SHARE) overShareMs += 50;
    }
  }
  const waited = waits.map((w) => w.grantedMs! - w.acceptedMs);
  console.log(
    `quota across runs: peak ${peakActive(spans)} (quota-a ${peakActive(spans, 'quota-a')}, quota-b ${peakActive(spans, 'quota-b')}), quota refusals ${stats.quotaRefusals}, ` +
      `${waits.length} waits (longest ${(Math.max(...waited) / 1000).toFixed(1)} s), ${contested} grants while the other run waited, none past the fair share; ` +
      `the other run's most jobs during a wait ${maxOther}, shard-time waited while it had > ${FAIR_SHARE}: ${(overShareMs / 1000).toFixed(1)} s`,
  );
  expect(await worker.client.workflow.getHandle(SLOTS_ID).query(slotsQuery)).toMatchObject({ holders: [], waiters: [] });
}, 150_000);
