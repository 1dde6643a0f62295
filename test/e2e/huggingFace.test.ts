import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { Field, Schema, Utf8 } from 'apache-arrow';
import { startBatchRun } from '../../src/client/api';
import { titanEmbedding } from '../../src/emulator';
import { recordBatchOf, utf8Data } from '../../src/io/arrowColumns';
import { writeParquetToFile } from '../../src/io/parquetWrite';
import { RunInput } from '../../src/shared/types';
import { FakeHub, startFakeHub } from '../support/fakeHub';
import { LocalStack, startLocalStack } from '../support/localStack';
import { readRunOutput } from '../support/output';
import { RunningWorker, startWorker } from '../support/worker';

const TOKEN = 'hf_test_token';
const schema = new Schema([new Field('source', new Utf8(), true), new Field('input_text', new Utf8(), true)]);
const texts = (from: number, n: number) => Array.from({ length: n }, (_, i) => `passage ${from + i} about ${['rivers', 'stars', 'trees'][(from + i) % 3]}`);

async function parquetFile(from: number, n: number): Promise<Uint8Array> {
  const path = join(mkdtempSync(join(tmpdir(), 'hf-')), 'part.parquet');
  const values = texts(from, n);
  await writeParquetToFile(path, [recordBatchOf(schema, [utf8Data(values.map((v) => `src ${v}`)), utf8Data(values)])], { maxRowGroupRows: 100 });
  return new Uint8Array(readFileSync(path));
}

let stack: LocalStack;
let worker: RunningWorker;
let hub: FakeHub;

beforeAll(async () => {
  hub = await startFakeHub([
    {
      id: 'acme/passages',
      token: TOKEN,
      files: { 'default/train/0000.parquet': await parquetFile(0, 150), 'default/train/0001.parquet': await parquetFile(150, 100) },
    },
  ]);
  stack = await startLocalStack({ inProgressMs: 300 });
  worker = await startWorker(stack, { endpoint: hub.endpoint, token: TOKEN });
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
  await hub?.stop();
});

const run = (split: string): RunInput => ({
  input: { huggingFace: { datasetId: 'acme/passages', split } },
  task: 'embedding',
  modelId: 'amazon.titan-embed-text-v2:0',
  modelParams: { dimensions: 256 },
  outputUri: 's3://results/hf',
  roleArn: 'arn:aws:iam::123456789012:role/BedrockBatchRole',
  pollIntervalSeconds: 1,
});

test('a Hugging Face dataset split (private, two Parquet files) runs end to end through ranged reads', async () => {
  const summary = await (await startBatchRun(worker.client, run('train'))).result();
  expect(summary).toMatchObject({ inputUri: 'hf://datasets/acme/passages/default/train', rows: 250, succeeded: 250, shards: 1 });
  const out = await readRunOutput(stack.s3, summary.outputUris);
  expect(out.map((r) => r.input_text)).toEqual(texts(0, 250));
  const first = Array.from((out[0].embedding as { toArray(): Float32Array }).toArray());
  expect(first).toEqual(titanEmbedding({ inputText: texts(0, 1)[0], dimensions: 256 }).map(Math.fround));
  const reads = hub.requests.filter((r) => r.range);
  expect(reads.length).toBeGreaterThan(2);
  expect(hub.requests.some((r) => r.authorized)).toBe(true);
});

test('a split the dataset lacks fails before any job, naming the splits it has', async () => {
  stack.emulator.resetStats();
  const handle = await startBatchRun(worker.client, run('validation'));
  const error = (await handle.result().then(() => undefined, (err: unknown) => err)) as WorkflowFailedError;
  const cause = error.cause?.cause;
  expect(cause).toBeInstanceOf(Error);
  expect((cause as Error).message).toMatch(/validation/);
  expect((cause as Error).message).toMatch(/train/);
  expect(stack.emulator.stats().createRequests).toBe(0);
});
