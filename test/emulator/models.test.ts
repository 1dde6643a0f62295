import { anthropicAnswerText, titanEmbedding } from '../../src/emulator';
import { baseModelId, invokeFake, modelFamily } from '../../src/emulator/models';

const claude = (text: string, extra: Record<string, unknown> = {}) => ({
  anthropic_version: 'bedrock-2023-05-31',
  max_tokens: 100,
  messages: [{ role: 'user', content: [{ type: 'text', text }] }],
  ...extra,
});

describe('model families', () => {
  test.each([
    ['anthropic.claude-3-haiku-20240307-v1:0', 'anthropic'],
    ['us.anthropic.claude-sonnet-4-20250514-v1:0', 'anthropic'],
    ['global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'anthropic'],
    ['arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0', 'anthropic'],
    ['amazon.titan-embed-text-v2:0', 'titan-embed-v2'],
    ['apac.amazon.titan-embed-text-v2:0', 'titan-embed-v2'],
    ['amazon.titan-embed-text-v1', undefined],
    ['meta.llama3-8b-instruct-v1:0', 'llama'],
    ['us.meta.llama3-2-11b-instruct-v1:0', 'llama'],
    ['meta.llama4-scout-17b-instruct-v1:0', 'llama'],
    ['meta.llama2-13b-chat-v1', undefined],
    ['amazon.nova-micro-v1:0', 'nova'],
    ['eu.amazon.nova-pro-v1:0', 'nova'],
    ['amazon.nova-canvas-v1:0', undefined],
    ['mistral.mixtral-8x7b-instruct-v0:1', 'mistral'],
    ['mistral.mistral-large-2402-v1:0', 'mistral'],
    ['mistral.mistral-large-2407-v1:0', undefined],
    ['cohere.embed-multilingual-v3', 'cohere-embed'],
    ['arn:aws:bedrock:us-east-1::foundation-model/cohere.embed-english-v3', 'cohere-embed'],
    ['cohere.command-r-v1:0', undefined],
    ['arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123', undefined],
  ])('%s → %s', (id, family) => {
    expect(modelFamily(id)).toBe(family);
  });

  test('baseModelId strips profile prefixes and ARNs', () => {
    expect(baseModelId('eu.anthropic.claude-3-haiku-20240307-v1:0')).toBe('anthropic.claude-3-haiku-20240307-v1:0');
  });
});

describe('anthropicAnswerText', () => {
  test('is deterministic, insensitive to key order, and differs between inputs', () => {
    const a = claude('Hello there');
    const reordered = { messages: a.messages, max_tokens: 100, anthropic_version: 'bedrock-2023-05-31' };
    expect(anthropicAnswerText(a)).toBe(anthropicAnswerText(reordered));
    expect(anthropicAnswerText(a)).not.toBe(anthropicAnswerText(claude('Hello there', { temperature: 0.5 })));
    expect(anthropicAnswerText(a)).toMatch(/^Emulated answer [0-9a-f]{16} to: Hello there$/);
  });

  test('echoes the last user message, string or blocks', () => {
    const input = claude('first', {
      messages: [
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: 'an answer' },
        { role: 'user', content: 'second   question\nhere' },
      ],
    });
    expect(anthropicAnswerText(input)).toMatch(/to: second question here$/);
  });

  test('is cut to max_tokens*4 characters, and the record reports max_tokens', () => {
    const input = claude('a long enough question', { max_tokens: 3 });
    expect(anthropicAnswerText(input)).toHaveLength(12);
    const res = invokeFake('anthropic', 'InvokeModel', 'anthropic.claude-3-haiku-20240307-v1:0', input);
    expect(res.ok && res.modelOutput).toMatchObject({ stop_reason: 'max_tokens', usage: { output_tokens: 3 }, model: 'claude-3-haiku-20240307' });
  });
});

describe('Claude request validation gives Bedrock-style per-record errors', () => {
  const run = (input: unknown) => invokeFake('anthropic', 'InvokeModel', 'anthropic.claude-3-haiku-20240307-v1:0', input);
  test.each([
    [{ max_tokens: 1, messages: [{ role: 'user', content: 'x' }] }, /required key \[anthropic_version\] not found/],
    [claude('x', { max_tokens: 0 }), /#\/max_tokens: 0 is not greater or equal to 1/],
    [claude('x', { max_tokens: '10' }), /#\/max_tokens: expected type: Integer, found: String/],
    [claude('x', { messages: [{ role: 'system', content: 'x' }] }), /#\/messages\/0\/role/],
    [claude('x', { messages: [{ role: 'user', content: [{ type: 'text' }] }] }), /#\/messages\/0\/content\/0\/text: expected type: String/],
    [claude('x', { prompt: 'old style' }), /extraneous key \[prompt\] is not permitted/],
    [claude('x', { temperature: 3 }), /#\/temperature: 3 is not between 0 and 1/],
    ['not an object', /#: expected type: JSONObject, found: String/],
  ])('%j', (input, message) => {
    const res = run(input);
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.message).toMatch(message);
      expect(res.message).toMatch(/^Malformed input request: .*, please reformat your input and try again\.$/);
    }
  });
});

describe('titanEmbedding', () => {
  test('deterministic per inputText, sized by dimensions, unit length unless normalize is false', () => {
    const v = titanEmbedding({ inputText: 'hello' });
    expect(v).toHaveLength(1024);
    expect(v).toEqual(titanEmbedding({ inputText: 'hello', normalize: true, dimensions: 1024 }));
    expect(v).not.toEqual(titanEmbedding({ inputText: 'hello!' }));
    expect(Math.hypot(...v)).toBeCloseTo(1, 6);
    expect(titanEmbedding({ inputText: 'hello', dimensions: 256 })).toHaveLength(256);
    const raw = titanEmbedding({ inputText: 'hello', normalize: false });
    expect(Math.hypot(...raw)).toBeGreaterThan(5);
    expect(raw.every((x) => x >= -1 && x <= 1)).toBe(true);
  });

  test('bad Titan bodies are record errors', () => {
    const run = (input: unknown) => invokeFake('titan-embed-v2', 'InvokeModel', 'amazon.titan-embed-text-v2:0', input);
    for (const [input, message] of [
      [{ inputText: '' }, /minLength: 1/],
      [{ text: 'x' }, /extraneous key \[text\]/],
      [{ inputText: 'x', dimensions: 300 }, /#\/dimensions: 300 is not a valid enum value/],
      [{ inputText: 'x', normalize: 'yes' }, /#\/normalize: expected type: Boolean/],
      [{}, /required key \[inputText\]/],
    ] as const) {
      const res = run(input);
      expect(res).toEqual({ ok: false, message: expect.stringMatching(message) });
    }
    const ok = run({ inputText: 'abcdefgh', embeddingTypes: ['float', 'binary'] });
    expect(ok.ok && ok.modelOutput).toMatchObject({ inputTextTokenCount: 2, embeddingsByType: { binary: expect.any(Array), float: expect.any(Array) } });
  });
});
