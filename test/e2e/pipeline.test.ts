import { WorkflowFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { anthropicAnswerText, titanEmbedding } from '../../src/emulator';
import { startBatchRun } from '../../src/client/api';
import { loadPriceTable } from '../../src/config';
import { costOf } from '../../src/core/cost';
import { RunInput } from '../../src/shared/types';
import { sampleRows, uploadCsv } from '../support/data';
import { LocalStack, startLocalStack } from '../support/localStack';
import { exportHistories, readRunOutput } from '../support/output';
import { readWithPyarrow } from '../support/pyarrow';
import { RunningWorker, startWorker } from '../support/worker';

const ROLE = 'arn:aws:iam::123456789012:role/BedrockBatchRole';
const CLAUDE = 'anthropic.claude-3-haiku-20240307-v1:0';
const rows = sampleRows(2500);
const DATA = 's3://datasets/topics-2500.csv';

let stack: LocalStack;
let worker: RunningWorker;

beforeAll(async () => {
  stack = await startLocalStack();
  worker = await startWorker(stack);
  await uploadCsv(stack.s3, DATA, rows);
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

beforeEach(() => stack.emulator.resetStats());

function mismatches<T>(items: T[], check: (item: T) => string | undefined): string[] {
  return items.flatMap((item) => check(item) ?? []).slice(0, 5);
}

const textRun: RunInput = {
  input: { s3Uri: DATA },
  task: 'text',
  promptId: 'joke_about_topic',
  modelId: CLAUDE,
  modelParams: { maxTokens: 200 },
  outputUri: 's3://results/e2e-text',
  roleArn: ROLE,
  maxRecordsPerJob: 500,
  maxConcurrentJobs: 2,
  pollIntervalSeconds: 1,
  runName: 'e2e-text',
};

test('a 2,500-row text run: 5 jobs, never more than 2 at once, every row answered', async () => {
  const handle = await startBatchRun(worker.client, textRun, { workflowId: 'e2e-text-1' });
  const summary = await handle.result();

  const stats = stack.emulator.stats();
  expect(stats.jobsCreated).toBe(5);
  expect(stats.peakActiveJobs).toBe(2);
  expect(summary).toMatchObject({ shards: 5, rows: 2500, succeeded: 2500, failed: 0 });
  expect(summary.outputUris).toHaveLength(5);
  expect(summary.inputTokens).toBeGreaterThan(0);

  const out = await readRunOutput(stack.s3, summary.outputUris);
  expect(out).toHaveLength(2500);
  // Token totals come from Bedrock's manifests; for Claude they must agree with the per-record usage.
  expect(summary.inputTokens).toBe(out.reduce((n, r) => n + (r.input_tokens as number), 0));
  expect(summary.outputTokens).toBe(out.reduce((n, r) => n + (r.output_tokens as number), 0));
  expect(summary.cost).toEqual(costOf(loadPriceTable(), CLAUDE, summary.inputTokens, summary.outputTokens));
  expect(summary.cost.batchCost).toBeGreaterThan(0);
  expect(Object.keys(out[0])).toEqual(['id', 'topic', 'input_text', 'response', 'stop_reason', 'input_tokens', 'output_tokens', 'error_code', 'error_message', 'record_id', 'job_id']);
  const byId = new Map(out.map((r) => [r.id as string, r]));
  expect(byId.size).toBe(2500);
  const wrong = mismatches(rows, (row) => {
    const o = byId.get(row.id);
    if (!o) return `${row.id} missing`;
    if (o.topic !== row.topic || o.input_text !== row.input_text) return `${row.id} input columns differ`;
    const expected = anthropicAnswerText({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 200,
      messages: [{ role: 'user', content: [{ type: 'text', text: `Tell me a short, family-friendly joke about ${row.topic}.` }] }],
    });
    return o.response === expected ? undefined : `${row.id}: ${JSON.stringify(o.response)} != ${JSON.stringify(expected)}`;
  });
  expect(wrong).toEqual([]);

  const pyarrow = await readWithPyarrow(stack.s3, summary.outputUris[0]);
  expect(pyarrow.rows).toBe(500);
  expect(pyarrow.columns).toEqual([
    ['id', 'string'], ['topic', 'string'], ['input_text', 'string'], ['response', 'string'], ['stop_reason', 'string'],
    ['input_tokens', 'int32'], ['output_tokens', 'int32'], ['error_code', 'string'], ['error_message', 'string'],
    ['record_id', 'string'], ['job_id', 'string'],
  ]);
  expect(pyarrow.first.response).toBe(byId.get(pyarrow.first.id as string)!.response);
});

test('the text run again under a new workflow id reuses its Bedrock jobs instead of paying twice', async () => {
  const summary = await (await startBatchRun(worker.client, textRun, { workflowId: 'e2e-text-2' })).result();
  expect(stack.emulator.stats().createRequests).toBe(0);
  expect(summary).toMatchObject({ shards: 5, rows: 2500, succeeded: 2500 });
});

test("the finished run's history replays against the current workflow code", async () => {
  const history = await worker.client.workflow.getHandle('e2e-text-1').fetchHistory();
  await expect(Worker.runReplayHistory({ workflowBundle: worker.workflowBundle }, history, 'e2e-text-1')).resolves.toBeUndefined();
  const child = await worker.client.workflow.getHandle('e2e-text-1/shard-0').fetchHistory();
  await expect(Worker.runReplayHistory({ workflowBundle: worker.workflowBundle }, child, 'e2e-text-1/shard-0')).resolves.toBeUndefined();
  // Refreshes the fixtures test/replay replays: EXPORT_HISTORIES=test/histories npx jest test/e2e/pipeline
  exportHistories(stack.temporal.address, ['e2e-text-1', 'e2e-text-1/shard-0']);
  // Polling is the retry policy of one activity: however many polls, the child schedules one
  // waitForJob and its history stays a few dozen events long (slot grant, submit, collect, markers).
  const waits = child.events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'waitForJob');
  expect(waits).toHaveLength(1);
  expect(child.events!.length).toBeLessThan(60);
});

test('the same data as an embedding run, in pages of 2 shards: 2,500 embeddings of the model dimension', async () => {
  const input: RunInput = {
    input: { s3Uri: DATA },
    task: 'embedding',
    modelId: 'amazon.titan-embed-text-v2:0',
    modelParams: { dimensions: 256 },
    outputUri: 's3://results/e2e-embed',
    roleArn: ROLE,
    maxRecordsPerJob: 500,
    maxConcurrentJobs: 2,
    pollIntervalSeconds: 1,
    runName: 'e2e-embed',
    shardsPerPage: 2,
  };
  const handle = await startBatchRun(worker.client, input);
  const summary = await handle.result();
  expect(stack.emulator.stats().jobsCreated).toBe(5);
  // Pages of 2 shards: the first run continued as new; the totals above came through the continuations.
  const first = await worker.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).describe();
  expect(first.status.name).toBe('CONTINUED_AS_NEW');
  expect(summary).toMatchObject({ rows: 2500, succeeded: 2500, failed: 0 });

  const out = await readRunOutput(stack.s3, summary.outputUris);
  expect(out).toHaveLength(2500);
  const byId = new Map(out.map((r) => [r.id as string, r]));
  const wrong = mismatches(rows, (row) => {
    const o = byId.get(row.id);
    const vector = o?.embedding as { toArray(): Float32Array } | null | undefined;
    if (!vector) return `${row.id} has no embedding`;
    const got = Array.from(vector.toArray());
    const expected = titanEmbedding({ inputText: row.input_text, dimensions: 256 }).map(Math.fround);
    if (got.length !== 256) return `${row.id} has ${got.length} dimensions`;
    return got.every((v, i) => v === expected[i]) ? undefined : `${row.id} embedding differs`;
  });
  expect(wrong).toEqual([]);

  const pyarrow = await readWithPyarrow(stack.s3, summary.outputUris[0]);
  expect(pyarrow.columns).toContainEqual(['embedding', 'list<item: float>']);
  expect((pyarrow.first.embedding as number[]).length).toBe(256);
});

test('a template column missing from the data fails the run before any job exists', async () => {
  const input: RunInput = {
    input: { s3Uri: DATA },
    task: 'text',
    promptId: 'question_answering',
    modelId: CLAUDE,
    outputUri: 's3://results/e2e-missing',
    roleArn: ROLE,
    maxRecordsPerJob: 500,
  };
  const handle = await startBatchRun(worker.client, input);
  const error = await handle.result().then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = (error as WorkflowFailedError).cause?.cause as Error | undefined;
  expect(cause?.message).toMatch(/prompt "question_answering" uses column "source" missing from s3:\/\/datasets\/topics-2500\.csv/);
  expect(stack.emulator.stats().createRequests).toBe(0);
  const history = await handle.fetchHistory();
  const activityStarts = history.events?.filter((e) => e.activityTaskScheduledEventAttributes).length;
  expect(activityStarts).toBe(1);
});

test('invalid run input fails at once, naming every problem, before anything is read or submitted', async () => {
  const handle = await worker.client.workflow.start('batchRun', {
    taskQueue: 'bedrock-batch',
    workflowId: 'e2e-invalid',
    args: [{ input: { s3Uri: DATA }, task: 'text', promptId: 'joke_about_topic', modelId: 'meta.unknown-model', outputUri: 'results', roleArn: ROLE, maxRecordsPerJob: 20 }],
  });
  const error = (await handle.result().then(() => undefined, (err: unknown) => err)) as WorkflowFailedError;
  const cause = error.cause?.cause;
  expect(cause).toBeInstanceOf(Error);
  const message = (cause as Error).message;
  expect(message).toMatch(/outputUri must be an s3:\/\/bucket\/prefix URI/);
  expect(message).toMatch(/maxRecordsPerJob must be an integer from 100 to 50000, got 20/);
  expect(stack.emulator.stats().createRequests).toBe(0);

  const badModel = await worker.client.workflow.start('batchRun', {
    taskQueue: 'bedrock-batch',
    workflowId: 'e2e-bad-model',
    args: [{ ...textRun, modelId: 'meta.unknown-model', modelParams: { maxTokens: 10 } }],
  });
  const modelError = (await badModel.result().then(() => undefined, (err: unknown) => err)) as WorkflowFailedError;
  const modelCause = modelError.cause?.cause;
  expect(modelCause).toBeInstanceOf(Error);
  expect((modelCause as Error).message).toMatch(/model "meta.unknown-model" is not of a supported family/);
});
