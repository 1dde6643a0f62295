import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { startBatchRun } from '../../src/client/api';
import { runCli } from '../../src/client/cli';
import { operator } from '../../src/client/commands/controls';
import { findTemporalBinary, waitFor } from '../../src/localstack';
import { progressQuery, setMaxConcurrentJobsUpdate } from '../../src/shared/messages';
import type { RunInput } from '../../src/shared/types';
import { sampleRows, uploadCsv } from '../support/data';
import { exportHistories, readRunOutput } from '../support/output';
import { localStackWithWorker, textRun } from '../support/runs';

// Jobs of 100 records that run ~1.5 s each: long enough for a change to land while one runs.
const env = localStackWithWorker({ inProgressMs: 1500 });
beforeAll(() => Object.assign(process.env, env.stack.env));

const stats = () => env.stack.emulator.stats();
/** Jobs of one run (runs name their jobs after runName), so another test's run cannot be counted. */
const jobsOf = (name: string) => stats().jobs.filter((j) => j.jobName.startsWith(`${name}-`)).length;
const handleOf = (id: string) => env.worker.client.workflow.getHandle(id);
const progressOf = (id: string) => handleOf(id).query(progressQuery);

async function start(name: string, rows: number, extra: Partial<RunInput>) {
  await uploadCsv(env.stack.s3, `s3://datasets/${name}.csv`, sampleRows(rows));
  env.stack.emulator.resetStats();
  return startBatchRun(env.worker.client, textRun(name, { maxRecordsPerJob: 100, ...extra }), { workflowId: name });
}

async function cli(...argv: string[]): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await runCli(argv, (l) => lines.push(l));
  return { code, text: lines.join('\n') };
}

test('scaling a run from 1 to 3 jobs mid-run raises the jobs running at once; progress says who changed it', async () => {
  const run = await start('ctl-scale', 600, { maxConcurrentJobs: 1 });
  await waitFor('the first job', async () => jobsOf('ctl-scale') >= 1, 60_000, 50);
  expect(stats().peakActiveJobs).toBe(1);

  const scaled = await cli('scale', 'ctl-scale', '3');
  expect(scaled.code).toBe(0);
  expect(scaled.text).toMatch(/^max jobs\s+3 at once$/m);
  const progress = await progressOf('ctl-scale');
  expect(progress.controls?.settings).toEqual({ maxConcurrentJobs: 3, paused: false, budgetUsd: null });
  expect(progress.controls?.changes).toEqual([{ setting: 'maxConcurrentJobs', from: 1, to: 3, by: operator(), at: expect.any(String) }]);

  const summary = await run.result();
  expect(summary).toMatchObject({ outcome: 'complete', rows: 600 });
  expect(jobsOf('ctl-scale')).toBe(6);
  expect(stats().peakActiveJobs).toBe(3);
}, 180_000);

test('pause holds new submits across continue-as-new while running jobs finish; bad values leave no events; resume completes', async () => {
  // Two shards a page: the pause lands in page 1, which drains and continues as new still paused.
  const run = await start('ctl-pause', 400, { maxConcurrentJobs: 2, shardsPerPage: 2 });
  await waitFor('two jobs', async () => jobsOf('ctl-pause') >= 2, 60_000, 50);
  const paused = await cli('pause', 'ctl-pause', '--reason', 'quota review');
  expect(paused.code).toBe(0);
  expect(paused.text).toMatch(/^submission\s+paused \(quota review\)$/m);

  await waitFor('the running shards to finish', async () => (await progressOf('ctl-pause')).totals.shardsDone === 2, 60_000, 200);
  await new Promise((r) => setTimeout(r, 4000)); // more than a job's life and a poll: a start would show by now
  expect(jobsOf('ctl-pause')).toBe(2);
  expect(stats()).toMatchObject({ createRequests: 2, activeJobs: 0 });
  const held = await progressOf('ctl-pause');
  expect(held).toMatchObject({ shardsStarted: 2, shardsRunning: 0 });
  expect(held.controls?.settings).toMatchObject({ paused: true, pauseReason: 'quota review' });
  const status = await cli('status', 'ctl-pause');
  expect(status.text).toMatch(/^settings\s+2 jobs at once · paused \(quota review\) · budget none$/m);
  expect(status.text).toContain(`1 in all; paused submitting → paused by ${operator()} at `);

  // A refused value is refused before anything is written: the (quiet) history does not grow.
  const eventsBefore = (await handleOf('ctl-pause').fetchHistory()).events?.length;
  for (const [argv, reason] of [
    [['scale', 'ctl-pause', '0'], 'maxConcurrentJobs must be a whole number from 1 to 1000, got 0'],
    [['scale', 'ctl-pause', '1001'], 'maxConcurrentJobs must be a whole number from 1 to 1000, got 1001'],
    [['scale', 'ctl-pause', '2.5'], 'maxConcurrentJobs must be a whole number from 1 to 1000, got 2.5'],
    [['scale', 'ctl-pause', 'lots'], 'maxConcurrentJobs must be a whole number from 1 to 1000, got "lots"'],
    [['budget', 'ctl-pause', '--', '-1'], 'budgetUsd must be a positive number of US dollars, or null to lift the budget, got -1'],
    [['budget', 'ctl-pause', 'free'], 'budgetUsd must be a positive number of US dollars, or null to lift the budget, got "free"'],
  ] as const) {
    expect(await cli(...argv)).toEqual({ code: 1, text: `rejected: ${reason}` });
  }
  await expect(handleOf('ctl-pause').executeUpdate(setMaxConcurrentJobsUpdate, { args: [3, 'x'.repeat(300)] })).rejects.toThrow(WorkflowUpdateFailedError);
  expect((await handleOf('ctl-pause').fetchHistory()).events?.length).toBe(eventsBefore);

  // Resume from the temporal CLI, as the README shows: positional inputs (reason, by). Not execFileSync:
  // the worker runs in this process, and a blocked event loop could not answer the update.
  const { stdout: answer } = await promisify(execFile)(
    findTemporalBinary(),
    ['workflow', 'update', 'execute', '--name', 'resumeSubmission', '--workflow-id', 'ctl-pause', '--input', 'null', '--input', '"ops@temporal-cli"', '--output', 'json', '--address', env.stack.temporal.address],
    { encoding: 'utf8' },
  );
  expect(answer).toMatch(/"paused":\s*false/);
  const summary = await run.result();
  expect(summary).toMatchObject({ outcome: 'complete', rows: 400 });
  expect(jobsOf('ctl-pause')).toBe(4);
  const log = (await progressOf('ctl-pause')).controls;
  expect(log?.changes.map((c) => [c.setting, c.from, c.to, c.by, c.reason])).toEqual([
    ['paused', false, true, operator(), 'quota review'],
    ['paused', true, false, 'ops@temporal-cli', undefined],
  ]);
  exportHistories(env.stack.temporal.address, ['ctl-pause'], 'live-controls__');
}, 180_000);

test('a budget lowered mid-run stops new submits; the outcome gives the budget and who set it', async () => {
  const run = await start('ctl-budget', 400, { maxConcurrentJobs: 1 });
  await waitFor('the first job', async () => jobsOf('ctl-budget') >= 1, 60_000, 50);
  const set = await cli('budget', 'ctl-budget', '0.0001');
  expect(set.code).toBe(0);
  expect(set.text).toMatch(/^budget\s+USD 0\.0001$/m);

  const summary = await run.result();
  expect(jobsOf('ctl-budget')).toBe(1);
  expect(summary).toMatchObject({ outcome: 'incomplete', rows: 400, succeeded: 100 });
  expect(summary.budget).toMatchObject({ limitUsd: 0.0001, shardsNotSubmitted: 3, rowsNotSubmitted: 300 });
  expect(summary.budget?.message).toMatch(new RegExp(`^budget of \\$0\\.0001 reached: .* \\(budget set by ${operator().replace(/[.]/g, '\\.')} at `));
  const out = await readRunOutput(env.stack.s3, summary.outputUris);
  expect(out.filter((r) => r.error_code === 'NOT_SUBMITTED_BUDGET')).toHaveLength(300);
}, 180_000);

test('once every shard has started, pause still holds a re-drive and resume lets it go', async () => {
  // Two shards, two seats: both start at once. Shard 0's job ends PartiallyCompleted after ~3 s
  // with 100 records unanswered; its re-drive then asks for a seat under the settings in force.
  env.stack.emulator.setFaults({ partialJobsNamed: ['-s00000-a1'], jobMsNamed: ['-s00000-a1=3000'] });
  const run = await start('ctl-redrive', 400, { maxConcurrentJobs: 2, maxRecordsPerJob: 200 });
  await waitFor('both shards started', async () => (await progressOf('ctl-redrive')).shardsStarted === 2, 60_000, 50);
  const paused = await cli('pause', 'ctl-redrive', '--reason', 'hold re-drives');
  expect(paused).toMatchObject({ code: 0 });
  // Two shards pool their small remainders: a budget still governs that pooled job.
  expect(await cli('budget', 'ctl-redrive', '50')).toMatchObject({ code: 0 });

  const ended = () => stats().jobs.filter((j) => j.jobName.startsWith('ctl-redrive-') && j.endMs !== undefined);
  await waitFor('both first jobs to end', async () => ended().length === 2, 60_000, 100);
  await new Promise((r) => setTimeout(r, 4000)); // a collect and a seat ask take well under this
  expect(jobsOf('ctl-redrive')).toBe(2);

  expect(await cli('resume', 'ctl-redrive')).toMatchObject({ code: 0 });
  const summary = await run.result();
  expect(summary).toMatchObject({ outcome: 'complete', rows: 400, succeeded: 400 });
  expect(jobsOf('ctl-redrive')).toBe(3);
}, 180_000);

test('once the only shard has started, a budget is refused: nothing is left for it to govern', async () => {
  env.stack.emulator.setFaults({ jobMsNamed: ['ctl-one-=4000'] });
  const run = await start('ctl-one', 100, { maxConcurrentJobs: 1 });
  await waitFor('the shard started', async () => (await progressOf('ctl-one')).shardsStarted === 1, 60_000, 50);
  const refused = await cli('budget', 'ctl-one', '50');
  expect(refused.code).toBe(1);
  expect(refused.text).toMatch(/all 1 shards have started and the run pools no remainders: no submission is left for a budget to govern/);
  expect((await progressOf('ctl-one')).controls?.settings.budgetUsd).toBeNull();
  expect(await run.result()).toMatchObject({ outcome: 'complete', rows: 100 });
}, 120_000);
