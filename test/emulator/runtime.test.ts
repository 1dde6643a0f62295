import {
  AccessDeniedException,
  type BedrockRuntimeClient,
  ConverseCommand,
  ConverseCommandInput,
  InvokeModelCommand,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { createBedrockRuntimeClient } from '../../src/config';
import type { BedrockEmulator } from '../../src/emulator';
import { CLAUDE, CREDENTIALS, Env, OUT_BUCKET, REGION, TITAN, claudeRecords, createJob, errorOf, jobIdOf, putJsonl, readJsonl, startEnv, titanRecords, waitForStatus } from './helpers';

let env: Env;
let emulator: BedrockEmulator;
let runtime: BedrockRuntimeClient;
let bedrock: Awaited<ReturnType<Env['start']>>['bedrock'];
beforeAll(async () => {
  env = await startEnv();
  ({ emulator, bedrock } = await env.start());
  // The worker's own client (HTTP/1.1, no SDK retries: a throttled call reaches the test).
  runtime = createBedrockRuntimeClient({ endpoint: emulator.url, region: REGION, credentials: CREDENTIALS });
});
afterAll(async () => {
  runtime?.destroy();
  await env?.stop();
});
beforeEach(() => {
  emulator.setFaults({});
  emulator.resetStats();
});

/** InvokeModel with the response headers, which the SDK does not surface (token counts travel only there). */
async function invoke(modelId: string, body: unknown) {
  const command = new InvokeModelCommand({ modelId, body: JSON.stringify(body), contentType: 'application/json', accept: 'application/json' });
  let headers: Record<string, string> = {};
  command.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      headers = (out.response as { headers: Record<string, string> }).headers;
      return out;
    },
    { step: 'deserialize', name: 'captureHeaders' },
  );
  const res = await runtime.send(command);
  return { output: JSON.parse(Buffer.from(res.body).toString('utf8')), contentType: res.contentType, headers };
}

/** The output lines a batch job writes for these records, by record id. */
async function batchAnswers(records: Array<Record<string, unknown>>, modelId: string, modelInvocationType?: 'Converse') {
  const inputUri = await putJsonl(env.s3, `runtime/${modelId.replace(/[^a-z0-9]+/g, "-")}-${modelInvocationType ?? "invoke"}/in.jsonl`, records);
  const jobArn = await createJob(bedrock, { inputUri, modelId, outputUri: `s3://${OUT_BUCKET}/runtime/`, ...(modelInvocationType ? { modelInvocationType } : {}) });
  expect((await waitForStatus(bedrock, jobArn)).status).toBe('Completed');
  const lines = await readJsonl(env.s3, OUT_BUCKET, `runtime/${jobIdOf(jobArn)}/in.jsonl.out`);
  return new Map(lines.map((l) => [l.recordId as string, l]));
}

test('InvokeModel answers a modelInput exactly as a batch job does, with the token headers, for chat and embedding models', async () => {
  const claude = claudeRecords(100);
  const titan = titanRecords(100);
  const [claudeBatch, titanBatch] = [await batchAnswers(claude, CLAUDE), await batchAnswers(titan, TITAN)];
  for (const [records, modelId, batch] of [[claude, CLAUDE, claudeBatch], [titan, TITAN, titanBatch]] as const) {
    for (const record of records.slice(0, 3)) {
      const got = await invoke(modelId, record.modelInput);
      expect(got.output).toEqual(batch.get(record.recordId as string)!.modelOutput);
      expect(got.contentType).toBe('application/json');
      expect(Number(got.headers['x-amzn-bedrock-input-token-count'])).toBeGreaterThan(0);
      expect(got.headers['x-amzn-bedrock-output-token-count']).toMatch(/^\d+$/);
      expect(got.headers['x-amzn-bedrock-invocation-latency']).toMatch(/^\d+$/);
    }
  }
  // Claude's body carries usage: the headers say the same.
  const one = await invoke(CLAUDE, claude[0].modelInput);
  expect(Number(one.headers['x-amzn-bedrock-input-token-count'])).toBe(one.output.usage.input_tokens);
  expect(Number(one.headers['x-amzn-bedrock-output-token-count'])).toBe(one.output.usage.output_tokens);
  // A profile id answers as its base model, since answers derive from the base id.
  expect((await invoke(`us.${CLAUDE}`, claude[1].modelInput)).output).toEqual(claudeBatch.get(claude[1].recordId as string)!.modelOutput);
  expect(emulator.stats().runtime).toMatchObject({ invokeRequests: 8, answered: 8, rejected: 0, repeatedAnswers: 2 });
});

test('Converse answers as a Converse batch job does, in the runtime response shape', async () => {
  const records = Array.from({ length: 100 }, (_, i) => ({
    recordId: String(i).padStart(11, '0'),
    modelInput: { messages: [{ role: 'user', content: [{ text: `Tell me about item ${i}.` }] }], inferenceConfig: { maxTokens: 100 } },
  }));
  const batch = await batchAnswers(records, CLAUDE, 'Converse');
  const res = await runtime.send(new ConverseCommand({ modelId: CLAUDE, ...(records[5].modelInput as Omit<ConverseCommandInput, 'modelId'>) }));
  const { $metadata, ...output } = res;
  expect($metadata.httpStatusCode).toBe(200);
  expect(output).toEqual(batch.get(records[5].recordId)!.modelOutput);
  expect(res.usage!.totalTokens).toBe(res.usage!.inputTokens! + res.usage!.outputTokens!);
  expect(emulator.stats().runtime).toMatchObject({ converseRequests: 1, answered: 1 });
});

test('refuses as Bedrock does: unknown model ids, malformed bodies, Converse on an embedding model', async () => {
  const unknown = await errorOf(invoke('anthropic.claude-nonexistent-v9:0', claudeRecords(1)[0].modelInput));
  expect(unknown).toBeInstanceOf(ValidationException);
  expect(unknown.message).toBe('The provided model identifier is invalid.');
  expect(unknown.$metadata.httpStatusCode).toBe(400);

  const malformed = await errorOf(invoke(CLAUDE, { messages: [{ role: 'user', content: 'hi' }] }));
  expect(malformed).toBeInstanceOf(ValidationException);
  expect(malformed.message).toMatch(/^Malformed input request: #: required key \[anthropic_version\] not found/);

  const embedConverse = await errorOf(runtime.send(new ConverseCommand({ modelId: TITAN, messages: [{ role: 'user', content: [{ text: 'x' }] }] })));
  expect(embedConverse).toBeInstanceOf(ValidationException);
  expect(embedConverse.message).toMatch(/doesn't support the model/);

  const badTurns = await errorOf(runtime.send(new ConverseCommand({ modelId: CLAUDE, messages: [{ role: 'assistant', content: [{ text: 'x' }] }] })));
  expect(badTurns.message).toMatch(/must start with a user message/);
  expect(emulator.stats().runtime).toMatchObject({ answered: 0, rejected: 4 });
});

test('faults: throttled calls answer 429 ThrottlingException, denied ones 403 AccessDeniedException after the served ones', async () => {
  const body = claudeRecords(1)[0].modelInput;
  emulator.setFaults({ throttleNextInvokes: 2 });
  for (let i = 0; i < 2; i++) {
    const err = await errorOf(invoke(CLAUDE, body));
    expect(err).toBeInstanceOf(ThrottlingException);
    expect(err.$metadata.httpStatusCode).toBe(429);
  }
  await invoke(CLAUDE, body);

  emulator.setFaults({ denyInvokesAfter: 1 });
  await invoke(CLAUDE, body);
  for (let i = 0; i < 2; i++) {
    const err = await errorOf(invoke(CLAUDE, body));
    expect(err).toBeInstanceOf(AccessDeniedException);
    expect(err.$metadata.httpStatusCode).toBe(403);
  }
  expect(emulator.stats().runtime).toMatchObject({ invokeRequests: 6, answered: 2, rejected: 4, repeatedAnswers: 1 });
});
