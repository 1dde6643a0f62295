import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from '../../src/client/cli';
import { findTemporalBinary } from '../../src/localstack';
import { RunInput, RunSummary } from '../../src/shared/types';
import { sampleRows, toCsv, uploadCsv } from '../support/data';
import { listKeys } from '../support/output';
import { LocalStack, startLocalStack } from '../support/localStack';
import { RunningWorker, startWorker } from '../support/worker';

let stack: LocalStack;
let worker: RunningWorker;

/** The shipped sample run input, pointed at this test's data. */
const sample = JSON.parse(readFileSync(resolve(__dirname, '../../samples/run-text.json'), 'utf8')) as RunInput;

beforeAll(async () => {
  stack = await startLocalStack({ inProgressMs: 300 });
  worker = await startWorker(stack);
  await uploadCsv(stack.s3, (sample.input as { s3Uri: string }).s3Uri, sampleRows(300).map(({ id, topic }) => ({ id, topic })));
  Object.assign(process.env, stack.env);
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

test('the README command: temporal workflow start with the sample JSON input runs to a summary', async () => {
  const input = { ...sample, pollIntervalSeconds: 1 };
  execFileSync(findTemporalBinary(), [
    'workflow', 'start', '--address', stack.temporal.address, '--type', 'batchRun', '--task-queue', 'bedrock-batch',
    '--workflow-id', 'from-temporal-cli', '--input', JSON.stringify(input),
  ]);
  const summary: RunSummary = await worker.client.workflow.getHandle('from-temporal-cli').result();
  expect(summary).toMatchObject({ shards: 3, rows: 300, succeeded: 300, failed: 0 });
});

test('our CLI starts a run, waits for it, and reports its status', async () => {
  const lines: string[] = [];
  const input = JSON.stringify({ ...sample, outputUri: 's3://results/from-our-cli', pollIntervalSeconds: 1 });
  const code = await runCli(['start', '--input', input, '--workflow-id', 'from-our-cli', '--wait'], (l) => lines.push(l));
  expect(code).toBe(0);
  expect(lines[0]).toBe('started from-our-cli');
  expect(lines[1]).toMatch(/^run complete: all 300 rows answered/);
  expect(JSON.parse(lines[2])).toMatchObject({ rows: 300, succeeded: 300, outcome: 'complete' });

  lines.length = 0;
  await runCli(['status', 'from-our-cli', '--json'], (l) => lines.push(l));
  const status = JSON.parse(lines.join('\n'));
  expect(status.status).toBe('COMPLETED');
  expect(status.summary.outputUris).toHaveLength(3);
});

test('our CLI names what is wrong with its arguments', async () => {
  await expect(runCli(['start'], () => undefined)).rejects.toThrow('start needs --input');
  await expect(runCli(['start', '--input', '{nope'], () => undefined)).rejects.toThrow(/--input is not valid JSON, nor a file that exists/);
  await expect(runCli(['start', '--input', 'samples/no-such-run.json'], () => undefined)).rejects.toThrow(/--input is not valid JSON, nor a file that exists/);
  await expect(runCli(['frobnicate', 'x'], () => undefined)).rejects.toThrow(/unknown command "frobnicate"/);
  await expect(runCli(['start', '--input', '[1,2]'], () => undefined)).rejects.toThrow('--input must be one JSON object, the run input (see samples/run-text.json), but it is an array');
  await expect(runCli(['start', '--input', '"hello"'], () => undefined)).rejects.toThrow(/but it is a string/);
});

test('a workflow started with no input, null or an array fails at once, naming the problem', async () => {
  // Before, the workflow task failed and retried forever, so result() never settled and the run stayed RUNNING.
  const temporal = findTemporalBinary();
  for (const [id, extra] of [['no-input', []], ['null-input', ['--input', 'null']], ['array-input', ['--input', '[1,2]']]] as const) {
    execFileSync(temporal, ['workflow', 'start', '--address', stack.temporal.address, '--type', 'batchRun', '--task-queue', 'bedrock-batch', '--workflow-id', id, ...extra]);
    const failure = await worker.client.workflow.getHandle(id).result().then(
      () => 'completed',
      (err: Error) => `${(err.cause as Error | undefined)?.message}`,
    );
    expect(failure).toMatch(/^batchRun takes one JSON object, the run input \(see samples\/run-text.json\), but got (no argument|null|an array)$/);
    expect((await worker.client.workflow.getHandle(id).describe()).status.name).toBe('FAILED');
  }
});

test('a local CSV is uploaded once, by content, and maxRecords runs only the first rows', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'local-input-'));
  const file = join(dir, 'my topics.csv');
  writeFileSync(file, toCsv(sampleRows(250).map(({ id, topic }) => ({ id, topic }))));
  const input = { ...sample, input: { file }, outputUri: 's3://results/local-file', maxRecordsPerJob: 500, maxRecords: 120, pollIntervalSeconds: 1 };
  const lines: string[] = [];
  await runCli(['start', '--input', JSON.stringify(input), '--workflow-id', 'local-file-1', '--wait'], (l) => lines.push(l));
  const summary = JSON.parse(lines[2]) as RunSummary;
  expect(summary).toMatchObject({ rows: 120, shards: 1, succeeded: 120 });
  expect(summary.inputUri).toMatch(/^s3:\/\/results\/local-file\/inputs\/[0-9a-f]{64}\/my topics\.csv$/);

  await runCli(['start', '--input', JSON.stringify(input), '--workflow-id', 'local-file-2', '--wait'], () => undefined);
  expect(await listKeys(stack.s3, 's3://results/local-file/inputs/')).toHaveLength(1);
});
