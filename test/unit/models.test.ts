import { anthropicClaude } from '../../src/models/anthropic';
import { baseModelId, resolveModelAdapter } from '../../src/models/registry';
import { titanEmbedV2 } from '../../src/models/titanEmbed';
import { ModelParamsError, ResponseShapeError, UnknownModelError } from '../../src/models/types';

describe('model resolution', () => {
  it.each([
    ['anthropic.claude-3-haiku-20240307-v1:0', 'anthropic.claude-3-haiku-20240307-v1:0'],
    ['us.anthropic.claude-3-5-haiku-20241022-v1:0', 'anthropic.claude-3-5-haiku-20241022-v1:0'],
    ['global.anthropic.claude-sonnet-4-20250514-v1:0', 'anthropic.claude-sonnet-4-20250514-v1:0'],
    ['arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0', 'amazon.titan-embed-text-v2:0'],
    ['arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.anthropic.claude-3-haiku-20240307-v1:0', 'anthropic.claude-3-haiku-20240307-v1:0'],
  ])('reads %s as %s', (id, base) => {
    expect(baseModelId(id)).toBe(base);
  });

  it('picks the adapter by family and names unknown models', () => {
    expect(resolveModelAdapter('us.anthropic.claude-3-5-haiku-20241022-v1:0')).toBe(anthropicClaude);
    expect(resolveModelAdapter('amazon.titan-embed-text-v2:0')).toBe(titanEmbedV2);
    expect(() => resolveModelAdapter('cohere.command-r-v1:0')).toThrow(UnknownModelError);
    expect(() => resolveModelAdapter('cohere.command-r-v1:0')).toThrow(/cohere\.command-r-v1:0/);
  });
});

describe('Anthropic Claude adapter', () => {
  it('builds a Messages API body with the run parameters', () => {
    expect(anthropicClaude.buildRequest('Hi', { maxTokens: 200, temperature: 0.2, system: 'Be brief.', stopSequences: ['END'] })).toEqual({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 200,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
      system: 'Be brief.',
      temperature: 0.2,
      stop_sequences: ['END'],
    });
    expect(anthropicClaude.buildRequest('Hi', {}).max_tokens).toBe(1024);
  });

  it('rejects parameters Claude does not take, naming them', () => {
    expect(() => anthropicClaude.validateParams({ dimensions: 256 })).toThrow(ModelParamsError);
    expect(() => anthropicClaude.validateParams({ dimensions: 256 })).toThrow(/do not take dimensions/);
    expect(() => anthropicClaude.validateParams({ maxTokens: 0 })).toThrow(/maxTokens/);
    expect(() => anthropicClaude.validateParams({ temperature: 2 })).toThrow(/temperature/);
  });

  it('parses a real response: text blocks joined, stop reason, usage', () => {
    const output = {
      id: 'msg_bdrk_01',
      type: 'message',
      role: 'assistant',
      model: 'claude-3-haiku-20240307',
      content: [{ type: 'text', text: 'Why did the cat ' }, { type: 'text', text: 'sit on the laptop?' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 17, output_tokens: 12 },
    };
    expect(anthropicClaude.parseResponse(output)).toEqual({ text: 'Why did the cat sit on the laptop?', stopReason: 'end_turn', inputTokens: 17, outputTokens: 12 });
    expect(() => anthropicClaude.parseResponse({ completion: 'x' })).toThrow(ResponseShapeError);
  });
});

describe('Titan Text Embeddings V2 adapter', () => {
  it('builds the body and checks dimensions', () => {
    expect(titanEmbedV2.buildRequest('hello', { dimensions: 256, normalize: true })).toEqual({ inputText: 'hello', dimensions: 256, normalize: true });
    expect(titanEmbedV2.buildRequest('hello', {})).toEqual({ inputText: 'hello' });
    expect(() => titanEmbedV2.validateParams({ dimensions: 300 })).toThrow(/256, 512, 1024/);
    expect(() => titanEmbedV2.validateParams({ maxTokens: 5 })).toThrow(/do not take maxTokens/);
  });

  it('parses the embedding and the input token count', () => {
    const parsed = titanEmbedV2.parseResponse({ embedding: [0.1, -0.2], embeddingsByType: { float: [0.1, -0.2] }, inputTextTokenCount: 3 });
    expect(parsed).toEqual({ embedding: [0.1, -0.2], inputTokens: 3, outputTokens: 0 });
    expect(() => titanEmbedV2.parseResponse({ embeddings: [] })).toThrow(ResponseShapeError);
  });
});
