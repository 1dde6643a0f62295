import { WorkflowFailedError } from '@temporalio/client';
import { Field, Float64, Int32, Schema, Utf8, vectorFromArray } from 'apache-arrow';
import { anthropicAnswerText } from '../../src/emulator';
import { startBatchRun } from '../../src/client/api';
import { recordBatchOf, utf8Data } from '../../src/io/arrowColumns';
import { writeParquetToS3 } from '../../src/io/parquetWrite';
import { readObjectText, writeObject } from '../../src/io/s3';
import { RunInput } from '../../src/shared/types';
import { LocalStack, startLocalStack } from '../support/localStack';
import { readRunOutput } from '../support/output';
import { readWithPyarrow } from '../support/pyarrow';
import { RunningWorker, startWorker } from '../support/worker';

let stack: LocalStack;
let worker: RunningWorker;
const N = 1200;
const DATA = 's3://datasets/typed.parquet';

beforeAll(async () => {
  stack = await startLocalStack({ inProgressMs: 300 });
  worker = await startWorker(stack);
  const schema = new Schema([new Field('n', new Int32(), false), new Field('topic', new Utf8(), true), new Field('score', new Float64(), true)]);
  const batches = [0, 1, 2].map((b) => {
    const ids = Array.from({ length: N / 3 }, (_, i) => b * (N / 3) + i);
    return recordBatchOf(schema, [
      vectorFromArray(ids, new Int32()).data[0],
      utf8Data(ids.map((i) => (i % 50 === 7 ? null : `topic ${i}`))),
      vectorFromArray(ids.map((i) => i / 4), new Float64()).data[0],
    ]);
  });
  // Small row groups: the reader goes through several ranged reads, one row group at a time.
  await writeParquetToS3(stack.s3, DATA, batches, { maxRowGroupRows: 250 });
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

test('a Parquet dataset on S3: typed input columns come through to the output unchanged', async () => {
  const input: RunInput = {
    input: { s3Uri: DATA },
    task: 'text',
    promptId: 'joke_about_topic',
    modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
    modelParams: { maxTokens: 100 },
    outputUri: 's3://results/typed',
    roleArn: 'arn:aws:iam::123456789012:role/BedrockBatchRole',
    maxRecordsPerJob: 500,
    pollIntervalSeconds: 1,
  };
  const summary = await (await startBatchRun(worker.client, input)).result();
  expect(summary).toMatchObject({ shards: 3, rows: N, succeeded: N });
  // The footer's row count is known up front, so the 1,200 rows are split evenly rather than 500/500/200.
  const manifest = JSON.parse(await readObjectText(stack.s3, summary.manifestUri)) as { files: Array<{ rows: number }> };
  expect(manifest.files.map((f) => f.rows)).toEqual([400, 400, 400]);

  const out = await readRunOutput(stack.s3, summary.outputUris);
  expect(out.map((r) => r.n)).toEqual(Array.from({ length: N }, (_, i) => i));
  for (const r of out.slice(0, 60)) {
    const n = r.n as number;
    expect(r.score).toBe(n / 4);
    expect(r.topic).toBe(n % 50 === 7 ? null : `topic ${n}`);
    const prompt = `Tell me a short, family-friendly joke about ${n % 50 === 7 ? '' : `topic ${n}`}.`;
    expect(r.response).toBe(
      anthropicAnswerText({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, messages: [{ role: 'user', content: [{ type: 'text', text: prompt }] }] }),
    );
  }
  const pyarrow = await readWithPyarrow(stack.s3, summary.outputUris[0]);
  expect(pyarrow.columns.slice(0, 4)).toEqual([['n', 'int32'], ['topic', 'string'], ['score', 'double'], ['response', 'string']]);
});

test('an unreadable Parquet object fails the run before any job, naming the file', async () => {
  await writeObject(stack.s3, 's3://datasets/broken.parquet', 'PAR1 this is not really parquet at all PAR1');
  stack.emulator.resetStats();
  const handle = await startBatchRun(worker.client, {
    input: { s3Uri: 's3://datasets/broken.parquet' },
    task: 'embedding',
    modelId: 'amazon.titan-embed-text-v2:0',
    outputUri: 's3://results/broken',
    roleArn: 'arn:aws:iam::123456789012:role/BedrockBatchRole',
  });
  const error = (await handle.result().then(() => undefined, (err: unknown) => err)) as WorkflowFailedError;
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = error.cause?.cause;
  expect(cause).toBeInstanceOf(Error);
  expect((cause as Error).message).toMatch(/^s3:\/\/datasets\/broken\.parquet: not a readable Parquet file/);
  expect(stack.emulator.stats().createRequests).toBe(0);
});
