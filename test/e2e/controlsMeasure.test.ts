import { WorkflowUpdateFailedError } from '@temporalio/client';
import { startBatchRun } from '../../src/client/api';
import { waitFor } from '../../src/localstack';
import { pauseSubmissionUpdate, progressQuery, resumeSubmissionUpdate, setBudgetUpdate, setMaxConcurrentJobsUpdate } from '../../src/shared/messages';
import { sampleRows, uploadCsv } from '../support/data';
import { readRunOutput } from '../support/output';
import { localStackWithWorker, textRun } from '../support/runs';
import { activeAt, eventId, historyChain, jobSpans, peakActive } from '../support/schedulingMeasures';

/**
 * Issue 10, measure "Live control", on the local stack: raising a run's limit from 2 to 5 shows in
 * the emulator's active jobs within one poll; pause stops new submissions while the running jobs
 * finish; resume continues; a budget change applies to the next submission. Times come from the
 * emulator's job records (submitTime, endTime) and the run's history, not from sampling.
 */
const POLL_SECONDS = 3;
const local = localStackWithWorker({ inProgressMs: 5000 });
const spansOf = (run: string) => jobSpans(local.stack.emulator.stats().jobs, [run]);
const shardOf = (jobName: string) => Number(/-s(\d{5})-a\d+$/.exec(jobName)![1]);

beforeAll(async () => {
  Object.assign(process.env, local.stack.env);
  await uploadCsv(local.stack.s3, 's3://datasets/lc-scale.csv', sampleRows(1200));
  await uploadCsv(local.stack.s3, 's3://datasets/lc-budget.csv', sampleRows(400));
});

test('raising 2 → 5 shows in Bedrock within one poll; pause holds new submits while running jobs finish; resume completes the run', async () => {
  const name = 'lc-scale';
  local.stack.emulator.resetStats();
  const run = await startBatchRun(local.worker.client, textRun(name, { maxRecordsPerJob: 100, maxConcurrentJobs: 2, pollIntervalSeconds: POLL_SECONDS }), { workflowId: name });
  await waitFor('two jobs running', async () => activeAt(spansOf(name), Date.now(), name) === 2, 60_000, 50);

  // Raise: from the update's return to the emulator's active count (its job records) reaching 5.
  const raiseSent = Date.now();
  await run.executeUpdate(setMaxConcurrentJobsUpdate, { args: [5, 'measure'] });
  const raised = Date.now();
  await waitFor('five jobs running', async () => activeAt(spansOf(name), Date.now(), name) >= 5, 60_000, 50);
  const afterRaise = spansOf(name);
  expect(peakActive(afterRaise.filter((s) => s.start < raiseSent))).toBeLessThanOrEqual(2);
  const reachedFive = afterRaise.map((s) => s.start).filter((t) => t >= raiseSent && activeAt(afterRaise, t, name) >= 5).sort((a, b) => a - b)[0];
  const raiseDelayMs = Math.max(0, reachedFive - raised);
  expect(raiseDelayMs).toBeLessThanOrEqual(POLL_SECONDS * 1000);
  // The activeTimeline (every change of the emulator's count, stamped a moment after the job's submitTime) agrees.
  const timelineFive = local.stack.emulator.stats().activeTimeline.find((p) => p.atMs >= raiseSent && p.active >= 5)!.atMs;
  expect(Math.abs(timelineFive - reachedFive)).toBeLessThanOrEqual(5);

  // Pause: shards already started may still submit; no shard starts after it.
  await run.executeUpdate(pauseSubmissionUpdate, { args: ['measure', 'measure'] });
  const paused = Date.now();
  const startedAtPause = (await run.query(progressQuery)).shardsStarted;
  expect(startedAtPause).toBeLessThan(12);
  // The running jobs finish: as each slot frees, a broken pause would start the next shard here.
  await waitFor('the running shards to finish', async () => (await run.query(progressQuery)).totals.shardsDone === startedAtPause, 120_000, 200);
  const whilePaused = spansOf(name);
  expect(whilePaused).toHaveLength(startedAtPause);
  expect(whilePaused.every((s) => s.end <= Date.now())).toBe(true);
  expect(activeAt(whilePaused, Date.now(), name)).toBe(0);

  const resumeSent = Date.now();
  await run.executeUpdate(resumeSubmissionUpdate, { args: [null, 'measure'] });
  const summary = await run.result();
  expect(summary).toMatchObject({ outcome: 'complete', rows: 1200, succeeded: 1200 });
  const all = spansOf(name);
  expect(all).toHaveLength(12);
  // Every job created between the pause and the resume is one of a shard started before the pause.
  const lateStarters = all.filter((s) => s.start > paused && s.start < resumeSent && shardOf(s.jobName) >= startedAtPause);
  expect(lateStarters).toEqual([]);
  expect(peakActive(all)).toBe(5);
  // The run's history says the same: no shard workflow started between the pause and the resume updates.
  const events = (await historyChain(local.worker.client, name)).flat();
  const accepted = (update: string) => events.find((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === update)!;
  const [pauseId, resumeId] = [eventId(accepted('pauseSubmission')), eventId(accepted('resumeSubmission'))];
  expect(pauseId).toBeLessThan(resumeId);
  const childStarts = events.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
  expect(childStarts).toHaveLength(12);
  expect(childStarts.filter((e) => eventId(e) > pauseId && eventId(e) < resumeId)).toEqual([]);
  // Resume continues: the next shard's job comes after the resume.
  const firstAfterResume = Math.min(...all.filter((s) => shardOf(s.jobName) >= startedAtPause).map((s) => s.start));
  expect(firstAfterResume).toBeGreaterThan(resumeSent);
  console.log(
    `live control: 2 → 5 reached 5 active ${raiseDelayMs} ms after the update returned (poll ${POLL_SECONDS} s); paused with ${startedAtPause} shards started, ` +
      `0 submitted while paused (${((resumeSent - paused) / 1000).toFixed(1)} s); first job ${firstAfterResume - resumeSent} ms after resume`,
  );
}, 180_000);

test('a budget change applies to the next submission: raised in time it lets the next shard go; lowered to what is committed it stops the next; a stop is final', async () => {
  const name = 'lc-budget';
  // Shard 0 runs 8 s (time for two changes before it ends), shard 1 runs 20 s (the stop comes while it runs).
  local.stack.emulator.setFaults({ jobMsNamed: ['-s00000-a1=8000', '-s00001-a1=20000'] });
  try {
    local.stack.emulator.resetStats();
    const run = await startBatchRun(local.worker.client, textRun(name, { maxRecordsPerJob: 100, maxConcurrentJobs: 1, pollIntervalSeconds: POLL_SECONDS }), { workflowId: name });
    await waitFor('the first job', async () => spansOf(name).length === 1, 60_000, 50);
    const committed0 = (await run.query(progressQuery)).totals.committedCostUsd!;
    expect(committed0).toBeGreaterThan(0);

    // Lowered to what shard 0 committed, then raised, both while shard 0 runs: the next submission sees the raised one.
    expect(await run.executeUpdate(setBudgetUpdate, { args: [committed0, 'measure'] })).toMatchObject({ budgetUsd: committed0 });
    expect(await run.executeUpdate(setBudgetUpdate, { args: [committed0 * 100, 'measure'] })).toMatchObject({ budgetUsd: committed0 * 100 });
    const raised = Date.now();
    expect(spansOf(name)[0].end).toBeGreaterThan(raised); // shard 0 still ran: no submission came between the changes
    await waitFor('the second job', async () => spansOf(name).length === 2, 60_000, 50);
    const committed1 = (await run.query(progressQuery)).totals.committedCostUsd!;
    expect(committed1).toBeGreaterThan(committed0);

    // Lowered to what is committed while shard 1 runs; the limit raised so the run tries its next shard at once.
    await run.executeUpdate(setBudgetUpdate, { args: [committed1, 'measure'] });
    await run.executeUpdate(setMaxConcurrentJobsUpdate, { args: [2, 'measure'] });
    // A budget stop is final: raising it again is refused, with the stop's reason (the run's code closes submission for good).
    const raiseAgain = await run.executeUpdate(setBudgetUpdate, { args: [committed1 * 100, 'measure'] }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(raiseAgain).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((raiseAgain as WorkflowUpdateFailedError).cause?.message)).toMatch(/^no more jobs will be submitted: budget of \$[0-9.e-]+ reached: the 2 job\(s\) submitted/);
    expect(spansOf(name).filter((s) => Number.isFinite(s.end))).toHaveLength(1); // shard 1 still running: the stop came at the next submission

    const summary = await run.result();
    expect(spansOf(name)).toHaveLength(2);
    expect(summary).toMatchObject({ outcome: 'incomplete', rows: 400, succeeded: 200 });
    expect(summary.budget).toMatchObject({ limitUsd: committed1, shardsNotSubmitted: 2, rowsNotSubmitted: 200 });
    const out = await readRunOutput(local.stack.s3, summary.outputUris);
    expect(out.filter((r) => r.error_code === 'NOT_SUBMITTED_BUDGET')).toHaveLength(200);
    const changes = (await run.query(progressQuery)).controls?.changes.map((c) => [c.setting, c.to]);
    expect(changes).toEqual([
      ['budgetUsd', committed0],
      ['budgetUsd', committed0 * 100],
      ['budgetUsd', committed1],
      ['maxConcurrentJobs', 2],
    ]);
    console.log(`budget: raised in time → shard 1 submitted; lowered to committed $${committed1.toFixed(6)} → shards 2–3 not submitted (200 NOT_SUBMITTED_BUDGET rows); raise after the stop refused`);
  } finally {
    local.stack.emulator.setFaults({});
  }
}, 180_000);
