import { BedrockClient, CreateModelInvocationJobCommand, ValidationException } from '@aws-sdk/client-bedrock';
import { emulatedAnswerText, emulatedEmbedding } from '../../src/emulator';
import { Env, JsonLine, OUT_BUCKET, ROLE, createJob, errorOf, jobIdOf, putJsonl, readJsonl, recordId, startEnv, uniqueName, waitForStatus } from './helpers';

let env: Env;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env?.stop();
});

type Input = Record<string, unknown>;
type Line = JsonLine;

interface Case {
  name: string;
  modelId: string;
  invocationType?: 'InvokeModel' | 'Converse';
  input: (i: number) => Input;
  /** The same record with a budget so small that the answer must be cut. */
  short?: (i: number) => Input;
  bad: Array<[Input, RegExp]>;
  /** Checks one good line's shape and returns its answer text (chat) or first vector (embeddings). */
  read: (line: Line) => string | number[];
  truncatedReason?: string;
}

const question = (i: number) => `Tell me one fact about item number ${i}.`;
const llamaPrompt = (q: string) =>
  `<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n${q}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`;
const converseInput = (i: number, maxTokens = 200): Input => ({
  messages: [{ role: 'user', content: [{ text: question(i) }] }],
  inferenceConfig: { maxTokens, temperature: 0.2 },
});

function readConverse(line: Line): string {
  const out = line.modelOutput;
  expect(Object.keys(out).sort()).toEqual(['metrics', 'output', 'stopReason', 'usage']);
  expect(out.output.message.role).toBe('assistant');
  expect(out.usage.totalTokens).toBe(out.usage.inputTokens + out.usage.outputTokens);
  return out.output.message.content[0].text;
}

const cases: Case[] = [
  {
    name: 'nova',
    modelId: 'us.amazon.nova-lite-v1:0',
    input: (i) => ({
      schemaVersion: 'messages-v1',
      system: [{ text: 'Answer briefly.' }],
      messages: [{ role: 'user', content: [{ text: question(i) }] }],
      inferenceConfig: { maxTokens: 200, temperature: 0.3, topP: 0.9 },
    }),
    short: (i) => ({ messages: [{ role: 'user', content: [{ text: question(i) }] }], inferenceConfig: { max_new_tokens: 3 } }),
    truncatedReason: 'max_tokens',
    bad: [
      [{ inferenceConfig: { maxTokens: 10 } }, /^Malformed input request: #: required key \[messages\] not found, please reformat/],
      [{ messages: [{ role: 'user', content: [{ text: 'x' }] }], max_tokens: 10 }, /#: extraneous key \[max_tokens\] is not permitted/],
      [{ messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }] }, /#\/messages\/0\/content\/0: extraneous key \[type\]/],
      [{ messages: [{ role: 'assistant', content: [{ text: 'x' }] }] }, /must start with a user message/],
    ],
    read: (line) => {
      const out = line.modelOutput;
      expect(Object.keys(out).sort()).toEqual(['output', 'stopReason', 'usage']);
      expect(out.output.message.role).toBe('assistant');
      expect(out.usage).toEqual({
        inputTokens: expect.any(Number),
        outputTokens: expect.any(Number),
        totalTokens: out.usage.inputTokens + out.usage.outputTokens,
        cacheReadInputTokenCount: 0,
        cacheWriteInputTokenCount: 0,
      });
      return out.output.message.content[0].text;
    },
  },
  {
    name: 'llama',
    // Batch runs Llama 3.1 70B from us-east-1 only through the us. profile.
    modelId: 'us.meta.llama3-1-70b-instruct-v1:0',
    input: (i) => ({ prompt: llamaPrompt(question(i)), max_gen_len: 256, temperature: 0.5, top_p: 0.9 }),
    short: (i) => ({ prompt: llamaPrompt(question(i)), max_gen_len: 2 }),
    truncatedReason: 'length',
    bad: [
      [{ max_gen_len: 10 }, /#: required key \[prompt\] not found/],
      [{ prompt: 'hi', max_tokens: 10 }, /#: extraneous key \[max_tokens\] is not permitted/],
      [{ prompt: 'hi', max_gen_len: 4096 }, /#\/max_gen_len: 4096 is not less or equal to 2048/],
    ],
    read: (line) => {
      const out = line.modelOutput;
      expect(Object.keys(out).sort()).toEqual(['generation', 'generation_token_count', 'prompt_token_count', 'stop_reason']);
      expect(out.prompt_token_count).toBe(Math.ceil(line.modelInput.prompt.length / 4));
      expect(out.generation_token_count).toBeGreaterThan(0);
      return out.generation;
    },
  },
  {
    name: 'mistral',
    modelId: 'mistral.mixtral-8x7b-instruct-v0:1',
    input: (i) => ({ prompt: `<s>[INST] ${question(i)} [/INST]`, max_tokens: 300, temperature: 0.5, top_k: 50, stop: ['</s>'] }),
    short: (i) => ({ prompt: `<s>[INST] ${question(i)} [/INST]`, max_tokens: 4 }),
    truncatedReason: 'length',
    bad: [
      [{ max_tokens: 10 }, /#: required key \[prompt\] not found/],
      [{ prompt: 'hi', max_tokens: 5000 }, /#\/max_tokens: 5000 is not less or equal to 4096/],
      [{ prompt: 'hi', max_gen_len: 10 }, /#: extraneous key \[max_gen_len\] is not permitted/],
    ],
    read: (line) => {
      // Mistral's record has no token counts: only outputs[].
      expect(Object.keys(line.modelOutput)).toEqual(['outputs']);
      expect(line.modelOutput.outputs).toHaveLength(1);
      expect(Object.keys(line.modelOutput.outputs[0]).sort()).toEqual(['stop_reason', 'text']);
      return line.modelOutput.outputs[0].text;
    },
  },
  {
    name: 'cohere',
    modelId: 'cohere.embed-english-v3',
    input: (i) => ({ texts: [`document ${i} about embeddings`], input_type: 'search_document', truncate: 'END' }),
    bad: [
      [{ texts: ['x'], input_type: 'search_docs' }, /#\/input_type: "search_docs" is not a valid enum value/],
      [{ texts: Array.from({ length: 97 }, (_, k) => `t${k}`), input_type: 'clustering' }, /#\/texts: expected maximum item count: 96, found: 97/],
      [{ texts: ['x'] }, /#: required key \[input_type\] not found/],
    ],
    read: (line) => {
      const out = line.modelOutput;
      expect(Object.keys(out).sort()).toEqual(['embeddings', 'id', 'response_type', 'texts']);
      expect(out.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(out.response_type).toBe('embeddings_floats');
      expect(out.texts).toEqual(line.modelInput.texts);
      expect(out.embeddings).toHaveLength(1);
      expect(out.embeddings[0]).toHaveLength(1024);
      return out.embeddings[0];
    },
  },
  { name: 'converse-nova', modelId: 'amazon.nova-micro-v1:0', invocationType: 'Converse', input: (i) => converseInput(i), short: (i) => converseInput(i, 2), truncatedReason: 'max_tokens', bad: [[{ inferenceConfig: { maxTokens: 5 } }, /at least one message/]], read: readConverse },
  {
    name: 'converse-llama',
    modelId: 'arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-3-70b-instruct-v1:0',
    invocationType: 'Converse',
    input: (i) => ({ ...converseInput(i), system: [{ text: 'Be brief.' }] }),
    bad: [[{ messages: [{ role: 'user', content: [{ text: 'a' }] }, { role: 'user', content: [{ text: 'b' }] }] }, /must alternate between user and assistant/]],
    read: readConverse,
  },
];

/** 100 good records (one with a tiny budget where the family has one), then the bad ones. */
function recordsFor(c: Case): Array<{ recordId: string; modelInput: Input }> {
  const good = Array.from({ length: 100 }, (_, i) => ({ recordId: recordId(i), modelInput: i === 7 && c.short ? c.short(i) : c.input(i) }));
  return [...good, ...c.bad.map(([modelInput], k) => ({ recordId: `bad-${k}`, modelInput }))];
}

describe('every family runs a batch job in its own record shape', () => {
  test.each(cases)('$name', async (c) => {
    const { bedrock } = await env.start();
    const records = recordsFor(c);
    const inputUri = await putJsonl(env.s3, `families/${c.name}/in.jsonl`, records);
    const arn = await createJob(bedrock, { inputUri, outputUri: `s3://${OUT_BUCKET}/fam-${c.name}/`, modelId: c.modelId, modelInvocationType: c.invocationType });
    const done = await waitForStatus(bedrock, arn);
    expect(done.status).toBe('Completed');

    const prefix = `fam-${c.name}/${jobIdOf(arn)}`;
    const lines = new Map((await readJsonl(env.s3, OUT_BUCKET, `${prefix}/in.jsonl.out`)).map((l) => [l.recordId as string, l]));
    expect(lines.size).toBe(records.length);
    const embedding = c.name === 'cohere';
    for (const r of records.slice(0, 100)) {
      const line = lines.get(r.recordId)!;
      expect(line.modelInput).toEqual(r.modelInput);
      expect(line.error).toBeUndefined();
      const got = c.read(line);
      const want = embedding ? emulatedEmbedding(c.modelId, r.modelInput) : emulatedAnswerText(c.modelId, r.modelInput, c.invocationType);
      expect(got).toEqual(want);
    }
    if (c.short) {
      const cut = lines.get(recordId(7))!;
      expect((c.read(cut) as string).length).toBeLessThan((c.read(lines.get(recordId(8))!) as string).length);
      expect(JSON.stringify(cut.modelOutput)).toContain(`"${c.truncatedReason}"`);
    }
    c.bad.forEach(([modelInput, message], k) => {
      const line = lines.get(`bad-${k}`)!;
      expect(line).toEqual({ recordId: `bad-${k}`, modelInput, error: { errorCode: 400, errorMessage: expect.stringMatching(message) } });
    });

    const [manifest] = await readJsonl(env.s3, OUT_BUCKET, `${prefix}/manifest.json.out`);
    expect(manifest).toMatchObject({ totalRecordCount: records.length, successRecordCount: 100, errorRecordCount: c.bad.length });
    expect(manifest.inputTokenCount).toBeGreaterThan(0);
    if (embedding) expect(manifest.outputTokenCount).toBe(0);
    else expect(manifest.outputTokenCount).toBeGreaterThan(0);
  });

  test('families without per-record counts put ≈ chars/4 in the manifest', async () => {
    const { bedrock } = await env.start();
    const texts = (i: number) => [`first text ${i}`, `a second, longer text for record ${i}`];
    const cohere = Array.from({ length: 100 }, (_, i) => ({ recordId: recordId(i), modelInput: { texts: texts(i), input_type: 'search_query', embedding_types: ['float', 'int8'] } }));
    const mistral = cases.find((c) => c.name === 'mistral')!;
    const prompts = Array.from({ length: 100 }, (_, i) => ({ recordId: recordId(i), modelInput: mistral.input(i) }));
    const [cohereArn, mistralArn] = await Promise.all([
      putJsonl(env.s3, 'tokens/cohere.jsonl', cohere).then((inputUri) => createJob(bedrock, { inputUri, modelId: 'cohere.embed-multilingual-v3' })),
      putJsonl(env.s3, 'tokens/mistral.jsonl', prompts).then((inputUri) => createJob(bedrock, { inputUri, modelId: mistral.modelId })),
    ]);
    await Promise.all([waitForStatus(bedrock, cohereArn), waitForStatus(bedrock, mistralArn)]);

    const ceil4 = (s: string) => Math.ceil(s.length / 4);
    const [cm] = await readJsonl(env.s3, OUT_BUCKET, `out/${jobIdOf(cohereArn)}/manifest.json.out`);
    expect(cm).toMatchObject({ inputTokenCount: cohere.reduce((n, r) => n + ceil4(r.modelInput.texts.join('')), 0), outputTokenCount: 0 });
    const [line] = (await readJsonl(env.s3, OUT_BUCKET, `out/${jobIdOf(cohereArn)}/cohere.jsonl.out`)).filter((l) => l.recordId === recordId(3));
    expect(line.modelOutput.response_type).toBe('embeddings_by_type');
    expect(Object.keys(line.modelOutput.embeddings).sort()).toEqual(['float', 'int8']);
    expect(line.modelOutput.embeddings.float).toHaveLength(2);
    expect(line.modelOutput.embeddings.float[0]).toEqual(emulatedEmbedding('cohere.embed-multilingual-v3', cohere[3].modelInput));
    expect(line.modelOutput.embeddings.int8[1].every((x: number) => Number.isInteger(x) && x >= -128 && x <= 127)).toBe(true);

    const [mm] = await readJsonl(env.s3, OUT_BUCKET, `out/${jobIdOf(mistralArn)}/manifest.json.out`);
    expect(mm).toMatchObject({
      inputTokenCount: prompts.reduce((n, r) => n + ceil4(r.modelInput.prompt as string), 0),
      outputTokenCount: prompts.reduce((n, r) => n + ceil4(emulatedAnswerText(mistral.modelId, r.modelInput)), 0),
    });
  });
});

describe('Create and the model id', () => {
  let inputUri: string;
  let bedrock: BedrockClient;
  beforeAll(async () => {
    ({ bedrock } = await env.start());
    inputUri = await putJsonl(env.s3, 'ids/in.jsonl', Array.from({ length: 100 }, (_, i) => ({ recordId: recordId(i), modelInput: { prompt: 'hi' } })));
  });

  function create(modelId: string, modelInvocationType?: 'InvokeModel' | 'Converse') {
    return bedrock.send(
      new CreateModelInvocationJobCommand({
        jobName: uniqueName('ids'),
        roleArn: ROLE,
        modelId,
        modelInvocationType,
        inputDataConfig: { s3InputDataConfig: { s3Uri: inputUri, s3InputFormat: 'JSONL' } },
        outputDataConfig: { s3OutputDataConfig: { s3Uri: `s3://${OUT_BUCKET}/ids/` } },
      }),
    );
  }

  test('accepts bare ids, regional and global profiles and ARNs of every family', async () => {
    for (const modelId of [
      'amazon.nova-pro-v1:0',
      'us.amazon.nova-micro-v1:0',
      'global.amazon.nova-2-lite-v1:0',
      'us.meta.llama3-2-11b-instruct-v1:0',
      'meta.llama4-maverick-17b-instruct-v1:0',
      'mistral.mistral-7b-instruct-v0:2',
      'mistral.mistral-small-2402-v1:0',
      'arn:aws:bedrock:us-east-1::foundation-model/mistral.mistral-large-2402-v1:0',
      'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.meta.llama3-1-70b-instruct-v1:0',
      'cohere.embed-multilingual-v3',
    ]) {
      await expect(create(modelId)).resolves.toHaveProperty('jobArn');
    }
  });

  test('rejects models it cannot answer for, and Converse for embedding models', async () => {
    // Batch runs these in us-east-1, but the emulator has no answers in their shapes.
    for (const modelId of ['amazon.titan-embed-image-v1', 'amazon.nova-2-multimodal-embeddings-v1:0']) {
      const err = await errorOf(create(modelId));
      expect(err).toBeInstanceOf(ValidationException);
      expect(err.message).toMatch(/is not a model this emulator runs in batch/);
    }
    // Not batch models here at all: refused as AWS refuses them (see create.test.ts).
    for (const modelId of ['cohere.command-r-plus-v1:0', 'amazon.nova-canvas-v1:0', 'ai21.jamba-1-5-mini-v1:0']) {
      expect((await errorOf(create(modelId))).message).toBe('The provided request is not valid');
    }
    // Offered in us-west-2 only: in us-east-1 the id names nothing.
    expect((await errorOf(create('mistral.mistral-large-2407-v1:0'))).message).toBe('The provided model identifier is invalid.');
    const err = await errorOf(create('cohere.embed-english-v3', 'Converse'));
    expect(err).toBeInstanceOf(ValidationException);
    expect(err.message).toMatch(/does not support the Converse invocation type/);
  });

  test('Llama 4 Scout needs 50 records, the others 100', async () => {
    const records = Array.from({ length: 60 }, (_, i) => ({ recordId: recordId(i), modelInput: { prompt: `question ${i}` } }));
    const inputUri = await putJsonl(env.s3, 'scout/in.jsonl', records);
    const scout = await createJob(bedrock, { inputUri, modelId: 'us.meta.llama4-scout-17b-instruct-v1:0' });
    const llama3 = await createJob(bedrock, { inputUri, modelId: 'meta.llama3-8b-instruct-v1:0' });
    expect((await waitForStatus(bedrock, scout)).status).toBe('Completed');
    const failed = await waitForStatus(bedrock, llama3);
    expect(failed.status).toBe('Failed');
    expect(failed.message).toMatch(/60 records, fewer than the minimum of 100/);
  });
});
