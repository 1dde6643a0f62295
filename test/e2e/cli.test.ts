import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { runCli } from '../../src/client/cli';
import type { RecordLineage } from '../../src/client/lineage';
import type { RunSummary } from '../../src/shared/types';
import { sampleRows, uploadCsv } from '../support/data';
import { readRunOutput } from '../support/output';
import { CLAUDE_HAIKU, localStackWithWorker, textRun } from '../support/runs';

const local = localStackWithWorker();
const BIN = resolve(__dirname, '../../bin/batch.js');

beforeAll(() => {
  Object.assign(process.env, local.stack.env);
});

async function cli(args: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await runCli(args, (l) => lines.push(l));
  return { code, lines };
}

test('status, watch, list and lineage of one run, from the CLI', async () => {
  await uploadCsv(local.stack.s3, 's3://datasets/cli-ops.csv', sampleRows(300));
  const input = textRun('cli-ops', { maxRecordsPerJob: 100, maxConcurrentJobs: 1 });
  expect((await cli(['start', '--input', JSON.stringify(input), '--workflow-id', 'cli-ops'])).lines).toEqual(['started cli-ops']);

  const running = await cli(['status', 'cli-ops']);
  expect(running.lines[0]).toMatch(/^run +cli-ops \(running\)$/);
  expect(running.lines[1]).toBe(`model   ${CLAUDE_HAIKU}`);

  // Not a terminal: one line per state change, then the outcome line; the exit code is the run's.
  const watched = await cli(['watch', 'cli-ops', '--interval', '1']);
  expect(watched.code).toBe(0);
  expect(watched.lines.at(-1)).toMatch(/^run complete: all 300 rows answered/);
  const states = watched.lines.slice(0, -1);
  expect(states.some((l) => /running {2}shards 1\/3 done, 1 running, 1 pending {2}rows 100\/300/.test(l))).toBe(true);
  expect(new Set(states).size).toBe(states.length);

  const ended = await cli(['status', 'cli-ops']);
  expect(ended.lines).toContain('phase    done');
  expect(ended.lines).toContain('shards   3/3 done, 0 running, 0 pending');
  expect(ended.lines).toContain('outcome  complete: all 300 rows answered');
  expect(ended.lines.find((l) => l.startsWith('cost'))).toMatch(/^cost +\$\d+\.\d\d of ≤ \$\d+\.\d\d estimated$/);
  const json = JSON.parse((await cli(['status', 'cli-ops', '--json'])).lines.join('\n'));
  expect(json).toMatchObject({ status: 'COMPLETED', outcome: 'complete', rows: { done: 300 }, summary: { failedShards: [], partialShards: [] } });

  const listed = await cli(['list', '--status', 'completed']);
  expect(listed.lines[0]).toMatch(/^WORKFLOW ID +STATUS +MODEL +PHASE\/OUTCOME +ROWS DONE +STARTED$/);
  expect(listed.lines.find((l) => l.startsWith('cli-ops '))).toMatch(/^cli-ops +completed /);
  expect((await cli(['list', '--status', 'failed'])).lines.some((l) => l.startsWith('cli-ops '))).toBe(false);

  const lineage = JSON.parse((await cli(['lineage', 'cli-ops', '150', '--json'])).lines.join('\n')) as RecordLineage;
  expect(lineage).toMatchObject({ recordId: '00000000150', shardIndex: 1, status: 'answered', shardWorkflow: { workflowId: 'cli-ops/shard-1', status: 'COMPLETED' } });
  expect(lineage.jobs).toHaveLength(1);
  expect(lineage.job).toEqual({ jobId: expect.any(String), attempt: 1, jobArn: lineage.jobs[0].jobArn });
  expect(lineage.outputFile).toMatch(/\/output\/part-00001-000\.parquet$/);
  await expect(runCli(['lineage', 'cli-ops', '300'], () => undefined)).rejects.toThrow(/record 00000000300 is not in cli-ops: its run has 300 rows/);
});

test('list filters on the search attributes the run upserts (model, outcome, since)', async () => {
  const byModel = await cli(['list', '--model', CLAUDE_HAIKU, '--outcome', 'complete', '--since', '1d']);
  expect(byModel.lines.find((l) => l.startsWith('cli-ops '))).toMatch(new RegExp(`^cli-ops +completed +${CLAUDE_HAIKU.replace(/[.:]/g, '\\$&')} +complete +300 `));
  expect((await cli(['list', '--model', 'amazon.nova-lite-v1:0'])).lines[0]).toMatch(/^no batch runs match/);
});

test('rerun: a new run over the same input submits only the unanswered records and writes a complete output', async () => {
  const { emulator, s3 } = local.stack;
  await uploadCsv(s3, 's3://datasets/cli-rerun.csv', sampleRows(600));
  // Shard 1's first job stops half way and its re-drive expires: the run ends with rows unanswered.
  emulator.setFaults({ stopJobsNamed: ['-s00001-a1'], expireJobsNamed: ['-s00001-a2'] });
  const input = textRun('cli-rerun', { maxRecordsPerJob: 300 });
  const first = await cli(['start', '--input', JSON.stringify(input), '--workflow-id', 'cli-rerun', '--wait']);
  expect(first.code).toBe(3);
  const earlier = JSON.parse(first.lines[2]) as RunSummary;
  expect(earlier).toMatchObject({ outcome: 'incomplete', rows: 600 });
  expect(earlier.unanswered).toBeGreaterThanOrEqual(100);

  const unansweredId = (await readRunOutput(s3, earlier.outputUris)).find((r) => r.error_code !== null)!.record_id as string;
  const before = JSON.parse((await cli(['lineage', 'cli-rerun', unansweredId, '--json'])).lines.join('\n')) as RecordLineage;
  expect(before).toMatchObject({ shardIndex: 1, status: 'unanswered', errorCode: 'JOB_EXPIRED' });
  expect(before.jobs.map((j) => [j.attempt, j.status])).toEqual([[1, 'Stopped'], [2, 'Expired']]);

  emulator.setFaults({});
  const jobsBefore = new Set(emulator.stats().jobs.map((j) => j.jobArn));
  const rerun = await cli(['rerun', 'cli-rerun']);
  expect(rerun.lines[0]).toMatch(/^started cli-rerun-rerun-1, a rerun of cli-rerun \(run key [0-9a-f]{16}: /);
  // On a terminal, watch redraws its screen in place (cursor up, clear) until the run ends.
  const screens: string[] = [];
  const watched: string[] = [];
  expect(await runCli(['watch', 'cli-rerun-rerun-1', '--interval', '1'], (l) => watched.push(l), { write: (t) => screens.push(t) })).toBe(0);
  expect(screens.length).toBeGreaterThan(1);
  const ESC = '\x1b';
  expect(screens.slice(1).every((t) => t.startsWith(ESC) && /^\[\d+A$/.test(t.slice(1, t.indexOf(ESC, 1))) && t.includes(`${ESC}[0J`))).toBe(true);
  expect(screens.at(-1)).toMatch(/\nshards +\[#{24}\] 100% {2}2\/2 done/);
  expect(watched).toEqual([expect.stringMatching(/^run complete: all 600 rows answered/)]);
  const result = await cli(['result', 'cli-rerun-rerun-1']);
  expect(result.code).toBe(0);
  const summary = JSON.parse(result.lines[1]) as RunSummary;
  expect(summary).toMatchObject({ outcome: 'complete', rows: 600, succeeded: 600, runKey: earlier.runKey });

  // One new job: shard 1's third attempt, carrying exactly the records no earlier job answered.
  const created = emulator.stats().jobs.filter((j) => !jobsBefore.has(j.jobArn));
  expect(created.map((j) => [j.jobName.slice(-9), j.recordCount])).toEqual([['s00001-a3', earlier.unanswered]]);
  const out = await readRunOutput(s3, summary.outputUris);
  expect(out).toHaveLength(600);
  expect(out.filter((r) => r.error_code !== null)).toEqual([]);

  const after = JSON.parse((await cli(['lineage', 'cli-rerun-rerun-1', unansweredId, '--json'])).lines.join('\n')) as RecordLineage;
  expect(after).toMatchObject({ status: 'answered', job: { attempt: 3 } });
  await expect(runCli(['rerun', 'no-such-run'], () => undefined)).rejects.toThrow(/no-such-run/);
});

/** The `batch` bin as a user runs it: its own process, stdout, stderr and exit code. */
function batchBin(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...local.stack.env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('the batch bin: exit codes tell failed, cancelled and CLI errors apart, and failures print the root cause first', async () => {
  const failing = textRun('cli-fails', { modelId: 'anthropic.claude-no-such-model-v9:0' });
  await local.worker.client.workflow.start('batchRun', { taskQueue: 'bedrock-batch', workflowId: 'cli-fails', args: [failing] });
  const failed = await batchBin(['result', 'cli-fails']);
  expect(failed.code).toBe(4);
  const [first, chain] = failed.stdout.split('\n');
  expect(first).toMatch(/^run failed: .*anthropic\.claude-no-such-model-v9:0/);
  expect(first).not.toMatch(/Workflow execution failed/);
  expect(chain).toMatch(/^ {2}cause chain: Workflow execution failed: .*anthropic\.claude-no-such-model-v9:0/);
  expect((await batchBin(['status', 'cli-fails'])).stdout).toMatch(/\nroot cause +.*claude-no-such-model-v9/);

  await uploadCsv(local.stack.s3, 's3://datasets/cli-cancel.csv', sampleRows(100));
  await local.worker.client.workflow.start('batchRun', { taskQueue: 'bedrock-batch', workflowId: 'cli-cancel', args: [textRun('cli-cancel')] });
  expect((await batchBin(['cancel', 'cli-cancel'])).stdout).toBe('cancellation requested for cli-cancel\n');
  const cancelled = await batchBin(['watch', 'cli-cancel', '--interval', '1']);
  expect(cancelled.code).toBe(5);
  expect(cancelled.stdout).toMatch(/\nrun cancelled: /);

  const missing = await batchBin(['status', 'no-such-run']);
  expect(missing.code).toBe(1);
  expect(missing.stderr.split('\n')[0]).toMatch(/^error: .*no-such-run/);
  expect((await batchBin(['list', '--since', 'last week'])).stderr).toMatch(/^error: --since takes a duration/);
});

test('templates: list, show, and preview of a row from S3 (a run input) and from a local file, through the run\'s template code', async () => {
  expect((await cli(['templates', 'list'])).lines).toContainEqual(expect.stringMatching(/^joke_about_topic +topic +Tell me a short, family-friendly joke about \{topic\}\.$/));
  expect((await cli(['templates', 'show', 'joke_about_topic'])).lines[1]).toBe('Tell me a short, family-friendly joke about {topic}.');
  await uploadCsv(local.stack.s3, 's3://datasets/cli-preview.csv', sampleRows(20));
  const jobsBefore = local.stack.emulator.stats().jobs.length;
  const fromRun = await cli(['templates', 'preview', '--input', JSON.stringify(textRun('cli-preview', { modelParams: { system: 'Be brief.' } })), '--row', '7']);
  // Row 7 of sampleRows is "rain, \"mostly\" #7": the CSV's quoting is read as a run reads it.
  expect(fromRun.lines.slice(0, 2)).toEqual(['# joke_about_topic, row 7 (record 00000000007)', 'Tell me a short, family-friendly joke about rain, "mostly" #7.']);
  const body = JSON.parse(fromRun.lines.slice(3).join('\n'));
  expect(body).toMatchObject({ recordId: '00000000007', modelInput: { system: 'Be brief.', messages: [{ role: 'user' }] } });
  expect(local.stack.emulator.stats().jobs.length).toBe(jobsBefore);

  const fromFile = await cli(['templates', 'preview', 'joke_about_topic', '--input', resolve(__dirname, '../../samples/topics.csv'), '--row', '0']);
  expect(fromFile.lines).toEqual(['# joke_about_topic, row 0 (record 00000000000)', 'Tell me a short, family-friendly joke about cats.']);
  await expect(runCli(['templates', 'preview', 'joke_about_topic', '--input', 's3://datasets/cli-preview.csv', '--row', '20'], () => undefined)).rejects.toThrow(
    'the dataset has 20 rows (0 to 19); there is no row 20',
  );
  await expect(runCli(['templates', 'preview', 'no_such_prompt', '--input', 's3://datasets/cli-preview.csv'], () => undefined)).rejects.toThrow(/no template for prompt id "no_such_prompt"/);
});
