import { ApplicationFailure, CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { runCli } from '../../src/client/cli';
import { startBatchRun } from '../../src/client/api';
import type { IncompleteRunListing } from '../../src/activities/incompleteRun';
import { writeObject, readObjectText } from '../../src/io/s3';
import { waitFor } from '../../src/localstack';
import { progressQuery } from '../../src/shared/messages';
import { RunInput } from '../../src/shared/types';
import { sampleRows, toCsv, uploadCsv } from '../support/data';
import { LocalStack, startLocalStack } from '../support/localStack';
import { exportHistories, listKeys } from '../support/output';
import { RunningWorker, startWorker } from '../support/worker';

let stack: LocalStack;
let worker: RunningWorker;

const base = {
  task: 'text' as const,
  promptId: 'joke_about_topic',
  modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
  roleArn: 'arn:aws:iam::123456789012:role/BedrockBatchRole',
  maxRecordsPerJob: 100,
  pollIntervalSeconds: 1,
};

/** 600 one-line rows; line `badLine` (the header is line 1) gets a third field. */
function csvWithBadLine(badLine: number): string {
  const lines = toCsv(sampleRows(600).map(({ id, topic }) => ({ id, topic: topic.replace(/\n/g, ' ') }))).split('\n');
  lines[badLine - 1] += ',one field too many';
  return lines.join('\n');
}

async function failureOf(result: Promise<unknown>): Promise<WorkflowFailedError> {
  const error = await result.then(() => undefined, (err: unknown) => err);
  expect(error).toBeInstanceOf(WorkflowFailedError);
  return error as WorkflowFailedError;
}

async function cli(...args: string[]): Promise<string[]> {
  const lines: string[] = [];
  expect(await runCli(args, (l) => lines.push(l))).toBe(0);
  return lines;
}

async function incompleteListing(runUri: string): Promise<IncompleteRunListing> {
  return JSON.parse(await readObjectText(stack.s3, `${runUri}/_incomplete.json`)) as IncompleteRunListing;
}

/** Top-level entries of the run's keys, as the listing groups them. */
async function entriesUnder(runUri: string): Promise<string[]> {
  const prefix = `${runUri.replace(/^s3:\/\/[^/]+\//, '')}/`;
  const entries = (await listKeys(stack.s3, `${runUri}/`)).map((k) => k.slice(prefix.length).replace(/\/.*$/s, '/'));
  return [...new Set(entries)].sort();
}

beforeAll(async () => {
  // Jobs run for 5 s: long enough to cancel a run while its first job is in progress.
  stack = await startLocalStack({ inProgressMs: 5000 });
  worker = await startWorker(stack);
  Object.assign(process.env, stack.env);
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

test('a malformed row fails the run after shards were written: the error says where they are, _incomplete.json lists them, cleanup removes them', async () => {
  await writeObject(stack.s3, 's3://datasets/bad-line.csv', csvWithBadLine(452), 'text/csv');
  const input: RunInput = { ...base, input: { s3Uri: 's3://datasets/bad-line.csv' }, outputUri: 's3://results/incomplete' };
  const handle = await startBatchRun(worker.client, input, { workflowId: 'bad-line' });
  const error = await failureOf(handle.result());

  // The original failure (type and message), then where the run's files are.
  const failure = error.cause as ApplicationFailure;
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure.type).toBe('CsvFormatError');
  expect(failure.message).toMatch(
    /^s3:\/\/datasets\/bad-line\.csv: malformed CSV near line 452: .* \(files of this run: s3:\/\/results\/incomplete\/[0-9a-f]+\/, listed in _incomplete\.json; remove with: npm run cli -- cleanup bad-line\)$/,
  );
  const runUri = /files of this run: (s3:\/\/\S+)\/,/.exec(failure.message)![1];

  const listing = await incompleteListing(runUri);
  expect(listing).toMatchObject({ workflowId: 'bad-line', ended: 'failed', runUri, cleanup: 'npm run cli -- cleanup bad-line' });
  expect(listing.reason).toMatch(/malformed CSV near line 452/);
  // The shards finished before the one holding line 452 (rows of 100) were written; that one was not.
  expect(listing.prefixes['bedrock-input/'].objects).toBeGreaterThanOrEqual(2);
  expect(listing.prefixes['input-snapshot/'].objects).toBe(listing.prefixes['bedrock-input/'].objects);
  expect(listing.prefixes['bedrock-input/'].bytes).toBeGreaterThan(0);
  const listed = Object.values(listing.prefixes).reduce((n, t) => n + t.objects, 0);
  expect(listing.objects).toBe(listed);
  expect((await listKeys(stack.s3, `${runUri}/`)).length).toBe(listed + 1);

  // Without --yes it only lists.
  const dryRun = await cli('cleanup', 'bad-line');
  expect(dryRun[0]).toBe(`bad-line (FAILED): ${runUri}/`);
  expect(dryRun.join('\n')).toMatch(/bedrock-input\/ +\d+ objects +[\d,]+ bytes +delete/);
  expect(dryRun.join('\n')).toMatch(/_incomplete\.json +1 object +[\d,]+ bytes +delete/);
  expect(dryRun[dryRun.length - 1]).toMatch(new RegExp(`^dry run: would delete ${listed + 1} objects \\([\\d,]+ bytes\\); pass --yes`));
  expect((await listKeys(stack.s3, `${runUri}/`)).length).toBe(listed + 1);

  const deleted = await cli('cleanup', 'bad-line', '--yes');
  expect(deleted[deleted.length - 1]).toMatch(new RegExp(`^deleted ${listed + 1} objects`));
  expect(await listKeys(stack.s3, `${runUri}/`)).toEqual([]);
  expect(await cli('cleanup', 'bad-line', '--yes')).toEqual([`bad-line (FAILED): ${runUri}/`, '  nothing there: nothing to clean up']);
  exportHistories(stack.temporal.address, ['bad-line'], 'incomplete__');
});

test('an input error found before anything is written fails as before, and cleanup finds nothing to do', async () => {
  await uploadCsv(stack.s3, 's3://datasets/no-source.csv', sampleRows(100));
  const input: RunInput = { ...base, promptId: 'question_answering', input: { s3Uri: 's3://datasets/no-source.csv' }, outputUri: 's3://results/incomplete' };
  const error = await failureOf((await startBatchRun(worker.client, input, { workflowId: 'no-source' })).result());
  const cause = error.cause?.cause;
  expect(cause).toBeInstanceOf(Error);
  const message = (cause as Error).message;
  expect(message).toMatch(/uses column "source" missing from/);
  expect(message).not.toMatch(/files of this run/);
  expect(await cli('cleanup', 'no-source')).toEqual(['no-source (FAILED) ended before it resolved its run: it wrote nothing, there is nothing to clean up']);
});

test('a cancelled run lists what it wrote too; cleanup refuses while it runs', async () => {
  await uploadCsv(stack.s3, 's3://datasets/to-cancel.csv', sampleRows(600));
  const input: RunInput = { ...base, input: { s3Uri: 's3://datasets/to-cancel.csv' }, outputUri: 's3://results/incomplete-cancel', maxRecordsPerJob: 200, maxConcurrentJobs: 1 };
  const handle = await startBatchRun(worker.client, input, { workflowId: 'to-cancel' });
  await expect(runCli(['cleanup', 'to-cancel'], () => undefined)).rejects.toThrow(/to-cancel is still running; cancel it first/);
  await waitFor('a job in progress', async () => stack.emulator.stats().jobs.some((j) => j.status === 'InProgress'), 60_000, 50);
  const { runKey } = await handle.query(progressQuery);

  await handle.cancel();
  const error = await failureOf(handle.result());
  expect(error.cause).toBeInstanceOf(CancelledFailure);

  const runUri = `s3://results/incomplete-cancel/${runKey}`;
  const listing = await incompleteListing(runUri);
  expect(listing).toMatchObject({ workflowId: 'to-cancel', ended: 'cancelled', reason: 'the run was cancelled' });
  expect(Object.keys(listing.prefixes)).toEqual(expect.arrayContaining(['bedrock-input/', 'input-snapshot/', 'prepare/', 'shards.json']));
  expect(listing.prefixes['bedrock-input/'].objects).toBe(3);

  await cli('cleanup', 'to-cancel', '--yes');
  expect(await listKeys(stack.s3, `${runUri}/`)).toEqual([]);
  exportHistories(stack.temporal.address, ['to-cancel'], 'incomplete__');
});

test('cleanup of a completed run removes its staging files and keeps output/ and summary.json', async () => {
  await uploadCsv(stack.s3, 's3://datasets/complete.csv', sampleRows(150));
  const input: RunInput = { ...base, input: { s3Uri: 's3://datasets/complete.csv' }, outputUri: 's3://results/complete', maxRecordsPerJob: 200 };
  const summary = await (await startBatchRun(worker.client, input, { workflowId: 'completed' })).result();
  const runUri = summary.manifestUri.replace(/\/output\/_manifest\.json$/, '');
  expect(await entriesUnder(runUri)).toEqual(expect.arrayContaining(['bedrock-input/', 'bedrock-output/', 'input-snapshot/', 'output/', 'prepare/', 'shards.json', 'summary.json']));
  const outputKeys = await listKeys(stack.s3, `${runUri}/output/`);

  const lines = await cli('cleanup', 'completed', '--yes');
  expect(lines.join('\n')).toMatch(/output\/ +\d+ objects? +[\d,]+ bytes +keep/);
  expect(lines.join('\n')).toMatch(/summary\.json +1 object +[\d,]+ bytes +keep/);
  expect(await entriesUnder(runUri)).toEqual(['output/', 'summary.json']);
  expect(await listKeys(stack.s3, `${runUri}/output/`)).toEqual(outputKeys);
  expect((await cli('cleanup', 'completed', '--yes')).pop()).toBe('nothing to delete');
});
