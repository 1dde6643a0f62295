import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { makeOnDemand } from '../../src/activities/onDemand';
import { onDemandBilledTokens, onDemandRecordIds } from '../../src/activities/onDemandOutputs';
import { createBedrockRuntimeClient, loadPriceTable, loadRunDefaults } from '../../src/config';
import { BedrockEmulator, emulatedAnswerText, startBedrockEmulator } from '../../src/emulator';
import { writeObject } from '../../src/io/s3';
import { onDemandOutputPrefix } from '../../src/shared/paths';
import { listKeys } from '../support/output';
import { MotoS3, startMotoS3 } from './helpers';

/**
 * The on-demand activity on real S3 (moto) and the emulator's runtime routes, called directly:
 * a retry after a failure mid-way must not call again for the records already answered.
 */
const BUCKET = 'on-demand';
const CLAUDE = 'anthropic.claude-3-haiku-20240307-v1:0';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
let moto: MotoS3 & { stop(): Promise<void> };
let emulator: BedrockEmulator;
let runtime: BedrockRuntimeClient;

beforeAll(async () => {
  moto = await startMotoS3(BUCKET);
  emulator = await startBedrockEmulator({ s3: { endpoint: moto.server.endpoint, region: 'us-east-1', credentials: CREDENTIALS } });
  runtime = createBedrockRuntimeClient({ region: 'us-east-1', endpoint: emulator.url, credentials: CREDENTIALS });
}, 60_000);
afterAll(async () => {
  runtime?.destroy();
  await emulator?.close();
  await moto?.stop();
});
beforeEach(() => {
  emulator.setFaults({});
  emulator.resetStats();
});

const deps = () => ({ s3: moto.s3, bedrock: undefined as never, bedrockRuntime: runtime, templatesDir: '', defaults: loadRunDefaults(), prices: loadPriceTable(), hub: { endpoint: 'http://127.0.0.1:9' } });
const modelInput = (i: number) => ({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, messages: [{ role: 'user', content: [{ type: 'text', text: `Tell a joke about topic ${i}` }] }] });

/** A remainder file as prepareRedrive writes it, for run `name`; record `bad` (if given) has a body Claude refuses. */
async function remainder(name: string, n: number, bad?: number) {
  const runUri = `s3://${BUCKET}/${name}`;
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({ recordId: String(1000 + i).padStart(11, '0'), modelInput: i === bad ? { messages: [] } : modelInput(i) }),
  );
  const inputUri = `${runUri}/bedrock-input/redrive/shard-00000-a2/shard-00000-a2.jsonl`;
  await writeObject(moto.s3, inputUri, `${lines.join('\n')}\n`);
  const run = { runUri, modelId: CLAUDE, invocationType: 'InvokeModel' as const, onDemandRequestsPerSecond: 20 };
  return { req: { run, shardIndex: 0, inputUri }, prefix: onDemandOutputPrefix(runUri, 0) };
}

async function outputLines(prefix: string) {
  const lines: Array<Record<string, unknown>> = [];
  for (const key of await listKeys(moto.s3, prefix)) {
    const text = await (await moto.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString();
    for (const l of text.split('\n')) if (l.trim()) lines.push(JSON.parse(l));
  }
  return lines;
}

test('a retry after a failure mid-way calls only for the records not yet answered, and every record ends with one line', async () => {
  const { req, prefix } = await remainder('crash', 30);
  const { answerOnDemand } = makeOnDemand(deps());
  // Access is lost after 12 served calls: the activity fails as a whole, non-retryably.
  emulator.setFaults({ denyInvokesAfter: 12 });
  const failure = await answerOnDemand(req).then(() => undefined, (err: unknown) => err);
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure).toMatchObject({ type: 'OnDemandRefused', nonRetryable: true, message: expect.stringMatching(/AccessDeniedException/) });
  // What was answered before the failure was written, bill included.
  expect(emulator.stats().runtime.answered).toBe(12);
  expect((await onDemandRecordIds(moto.s3, prefix)).size).toBe(12);

  emulator.setFaults({});
  emulator.resetStats();
  const retried = await answerOnDemand(req);
  expect(retried).toEqual({ called: 18, skipped: 12, answered: 18, rejected: 0 });
  // Before: a retry would call all 30 again, paying twice for 12.
  expect(emulator.stats().runtime).toMatchObject({ invokeRequests: 18, answered: 18, repeatedAnswers: 0 });

  const lines = await outputLines(prefix);
  expect(lines).toHaveLength(30);
  expect(new Set(lines.map((l) => l.recordId)).size).toBe(30);
  // Batch output line shape, with the answer a batch job gives for the same modelInput.
  for (const line of lines) {
    const i = Number(line.recordId) - 1000;
    expect(line.modelInput).toEqual(modelInput(i));
    expect((line.modelOutput as { content: Array<{ text: string }> }).content[0].text).toBe(emulatedAnswerText(CLAUDE, modelInput(i)));
  }
  const billed = await onDemandBilledTokens(moto.s3, prefix);
  const usage = lines.map((l) => (l.modelOutput as { usage: { input_tokens: number; output_tokens: number } }).usage);
  expect(billed).toEqual({ inputTokens: usage.reduce((n, u) => n + u.input_tokens, 0), outputTokens: usage.reduce((n, u) => n + u.output_tokens, 0) });

  // A third call (a replayed activity) pays for nothing.
  emulator.resetStats();
  expect(await answerOnDemand(req)).toEqual({ called: 0, skipped: 30, answered: 0, rejected: 0 });
  expect(emulator.stats().runtime.invokeRequests).toBe(0);
});

test('throttled calls are retried with backoff; a record the model refuses becomes an error line naming why', async () => {
  const { req, prefix } = await remainder('throttled', 5, 3);
  emulator.setFaults({ throttleNextInvokes: 2 });
  const result = await makeOnDemand(deps()).answerOnDemand(req);
  expect(result).toEqual({ called: 5, skipped: 0, answered: 4, rejected: 1 });
  expect(emulator.stats().runtime).toMatchObject({ invokeRequests: 7, answered: 4, rejected: 3 });
  const bad = (await outputLines(prefix)).find((l) => l.error !== undefined);
  expect(bad).toMatchObject({
    recordId: '00000001003',
    error: { errorCode: 'ValidationException', errorMessage: expect.stringMatching(/^on-demand InvokeModel rejected the record: Malformed input request: /) },
  });
}, 30_000);
