import { anthropicAnswerText, emulatedAnswerText, emulatedEmbedding, titanEmbedding } from '../../src/emulator';
import { ModelFamily, invokeFake } from '../../src/emulator/models';

const run = (family: ModelFamily, modelId: string, input: unknown, type: 'InvokeModel' | 'Converse' = 'InvokeModel') => invokeFake(family, type, modelId, input);
const user = (text: string) => ({ role: 'user', content: [{ text }] });

describe('emulatedAnswerText / emulatedEmbedding', () => {
  test('agree with the Claude and Titan helpers', () => {
    const claude = { anthropic_version: 'bedrock-2023-05-31', max_tokens: 3, messages: [{ role: 'user', content: 'a question long enough to cut' }] };
    expect(emulatedAnswerText('us.anthropic.claude-3-haiku-20240307-v1:0', claude)).toBe(anthropicAnswerText(claude));
    const converse = { messages: [user('hello')], inferenceConfig: { maxTokens: 50 } };
    expect(emulatedAnswerText('amazon.nova-pro-v1:0', converse, 'Converse')).toBe(anthropicAnswerText(converse));
    expect(emulatedEmbedding('amazon.titan-embed-text-v2:0', { inputText: 'x', dimensions: 256 })).toEqual(titanEmbedding({ inputText: 'x', dimensions: 256 }));
  });

  test.each([
    ['Llama 3 template', 'meta.llama3-8b-instruct-v1:0', '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello  there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n', 'Hello there'],
    ['Llama 4 template', 'meta.llama4-scout-17b-instruct-v1:0', '<|begin_of_text|><|header_start|>user<|header_end|>\n\nWhy?<|eot|><|header_start|>assistant<|header_end|>\n\n', 'Why?'],
    ['[INST] turns', 'mistral.mistral-7b-instruct-v0:2', '<s>[INST] first [/INST] ok</s>[INST] second [/INST]', 'second'],
    ['no template', 'mistral.mistral-large-2402-v1:0', 'Complete this: the sky is', 'Complete this: the sky is'],
  ])('echo the last user turn of a %s', (_name, modelId, prompt, echo) => {
    expect(emulatedAnswerText(modelId, { prompt })).toMatch(new RegExp(`^Emulated answer [0-9a-f]{16} to: ${echo.replace('?', '\\?')}$`));
  });

  test('cut at the family budget field × 4 characters', () => {
    expect(emulatedAnswerText('meta.llama3-8b-instruct-v1:0', { prompt: 'q', max_gen_len: 2 })).toHaveLength(8);
    expect(emulatedAnswerText('mistral.mistral-7b-instruct-v0:2', { prompt: 'q', max_tokens: 3 })).toHaveLength(12);
    expect(emulatedAnswerText('amazon.nova-lite-v1:0', { messages: [user('q')], inferenceConfig: { max_new_tokens: 1 } })).toHaveLength(4);
  });

  test('Cohere vectors: unit length, per input_type, the same for profile ids and ARNs', () => {
    const doc = { texts: ['same words'], input_type: 'search_document' };
    const v = emulatedEmbedding('cohere.embed-english-v3', doc);
    expect(v).toHaveLength(1024);
    expect(Math.hypot(...v)).toBeCloseTo(1, 6);
    expect(emulatedEmbedding('arn:aws:bedrock:us-east-1::foundation-model/cohere.embed-english-v3', doc)).toEqual(v);
    expect(emulatedEmbedding('us.cohere.embed-english-v3', doc)).toEqual(v);
    expect(emulatedEmbedding('cohere.embed-english-v3', { ...doc, input_type: 'search_query' })).not.toEqual(v);
    expect(emulatedEmbedding('cohere.embed-multilingual-v3', doc)).not.toEqual(v);
  });

  test('throw for the wrong kind of model or an unknown one', () => {
    expect(() => emulatedAnswerText('cohere.embed-english-v3', {})).toThrow(/embedding model/);
    expect(() => emulatedEmbedding('meta.llama3-8b-instruct-v1:0', {})).toThrow(/not an embedding model/);
    expect(() => emulatedAnswerText('ai21.jamba-1-5-mini-v1:0', {})).toThrow(/not a model the Bedrock emulator runs/);
  });
});

describe('record validation per family', () => {
  test.each<[ModelFamily, string, unknown, RegExp]>([
    ['nova', 'amazon.nova-micro-v1:0', { messages: [] }, /#\/messages: expected minimum item count: 1, found: 0/],
    ['nova', 'amazon.nova-micro-v1:0', { schemaVersion: 'v2', messages: [user('x')] }, /#\/schemaVersion: "v2" is not a valid enum value/],
    ['nova', 'amazon.nova-micro-v1:0', { messages: [user('x')], top_p: 0.5 }, /#: extraneous key \[top_p\] is not permitted/],
    ['nova', 'amazon.nova-micro-v1:0', { messages: [user('x')], inferenceConfig: { maxTokens: 0 } }, /#\/inferenceConfig\/maxTokens: 0 is not greater or equal to 1/],
    ['nova', 'amazon.nova-micro-v1:0', { messages: [user('x')], inferenceConfig: { max_tokens: 5 } }, /#\/inferenceConfig: extraneous key \[max_tokens\]/],
    ['llama', 'meta.llama3-8b-instruct-v1:0', { prompt: '' }, /#\/prompt: expected minLength: 1, actual: 0/],
    ['llama', 'meta.llama3-8b-instruct-v1:0', { prompt: 'x', temperature: 1.5 }, /#\/temperature: 1.5 is not between 0 and 1/],
    ['mistral', 'mistral.mistral-7b-instruct-v0:2', { prompt: 'x', top_k: 0 }, /#\/top_k: 0 is not greater or equal to 1/],
    ['mistral', 'mistral.mistral-7b-instruct-v0:2', { prompt: 'x', stop: Array(11).fill('.') }, /#\/stop: expected maximum item count: 10, found: 11/],
    ['mistral', 'mistral.mistral-7b-instruct-v0:2', { prompt: 42 }, /#\/prompt: expected type: String, found: Integer/],
    ['cohere-embed', 'cohere.embed-english-v3', { texts: [], input_type: 'clustering' }, /#\/texts: expected minimum item count: 1, found: 0/],
    ['cohere-embed', 'cohere.embed-english-v3', { texts: ['x'.repeat(2049)], input_type: 'clustering' }, /#\/texts\/0: expected maxLength: 2048, actual: 2049/],
    ['cohere-embed', 'cohere.embed-english-v3', { texts: ['x'], input_type: 'classification', truncate: 'MIDDLE' }, /#\/truncate: "MIDDLE" is not a valid enum value/],
    ['cohere-embed', 'cohere.embed-english-v3', { texts: ['x'], input_type: 'classification', embedding_types: ['float16'] }, /#\/embedding_types\/0: "float16" is not a valid enum value/],
  ])('%s rejects bad body #%#', (family, modelId, input, message) => {
    const res = run(family, modelId, input);
    expect(res).toEqual({ ok: false, message: expect.stringMatching(message) });
    expect((res as { message: string }).message).toMatch(/^Malformed input request: .*, please reformat your input and try again\.$/);
  });

  test('Cohere quantised types have the documented sizes and ranges', () => {
    const res = run('cohere-embed', 'cohere.embed-english-v3', { texts: ['a', 'b'], input_type: 'search_query', embedding_types: ['int8', 'uint8', 'binary', 'ubinary'] });
    const e = (res.ok && res.modelOutput.embeddings) as Record<string, number[][]>;
    expect(Object.keys(e).sort()).toEqual(['binary', 'int8', 'ubinary', 'uint8']);
    const inRange = (vs: number[][], lo: number, hi: number, len: number) => vs.length === 2 && vs.every((v) => v.length === len && v.every((x) => Number.isInteger(x) && x >= lo && x <= hi));
    expect(inRange(e.int8, -128, 127, 1024)).toBe(true);
    expect(inRange(e.uint8, 0, 255, 1024)).toBe(true);
    expect(inRange(e.binary, -128, 127, 128)).toBe(true);
    expect(inRange(e.ubinary, 0, 255, 128)).toBe(true);
  });
});

describe('Converse for every chat family', () => {
  const body = { system: [{ text: 'Be brief.' }], messages: [user('hi')], inferenceConfig: { maxTokens: 100 } };

  test.each<[ModelFamily, string]>([
    ['anthropic', 'anthropic.claude-3-haiku-20240307-v1:0'],
    ['nova', 'amazon.nova-lite-v1:0'],
    ['llama', 'meta.llama3-1-8b-instruct-v1:0'],
    ['mistral', 'mistral.mistral-large-2402-v1:0'],
  ])('%s answers in the Converse shape', (family, modelId) => {
    const res = run(family, modelId, body, 'Converse');
    expect(res.ok && res.modelOutput).toMatchObject({ output: { message: { role: 'assistant', content: [{ text: emulatedAnswerText(modelId, body, 'Converse') }] } }, stopReason: 'end_turn' });
  });

  test('Mistral 7B and Mixtral take no system prompt; the first turn must be the user', () => {
    expect(run('mistral', 'mistral.mixtral-8x7b-instruct-v0:1', body, 'Converse')).toEqual({ ok: false, message: expect.stringMatching(/doesn't support system messages/) });
    expect(run('mistral', 'mistral.mistral-7b-instruct-v0:2', { messages: [user('hi')] }, 'Converse').ok).toBe(true);
    const assistantFirst = { messages: [{ role: 'assistant', content: [{ text: 'x' }] }, user('y')] };
    expect(run('llama', 'meta.llama3-8b-instruct-v1:0', assistantFirst, 'Converse')).toEqual({ ok: false, message: expect.stringMatching(/must start with a user message/) });
  });
});
