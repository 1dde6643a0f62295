import { converse, converseFor } from '../../src/models/converse';
import { ModelParamsError, ResponseShapeError } from '../../src/models/types';

describe('Converse adapter: request body', () => {
  // Converse request fields per https://docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference-call.html
  // and APIReference/API_runtime_InferenceConfiguration.html (maxTokens, stopSequences, temperature, topP).
  it('builds the Converse body minus modelId', () => {
    expect(converse.buildRequest('Name 3 UK pop songs', { system: 'Be brief.', maxTokens: 300, temperature: 0.5, topP: 0.9, stopSequences: ['END'] })).toEqual({
      messages: [{ role: 'user', content: [{ text: 'Name 3 UK pop songs' }] }],
      system: [{ text: 'Be brief.' }],
      inferenceConfig: { maxTokens: 300, temperature: 0.5, topP: 0.9, stopSequences: ['END'] },
    });
  });

  it('always sends maxTokens (default 1024) and nothing unset', () => {
    expect(converse.buildRequest('Hi', {})).toEqual({ messages: [{ role: 'user', content: [{ text: 'Hi' }] }], inferenceConfig: { maxTokens: 1024 } });
  });

  it('puts topK in additionalModelRequestFields under the field AWS documents for Claude and Nova', () => {
    // Claude: conversation-inference-examples.html ({"top_k": …}); Nova: nova/latest/userguide/using-converse-api.html.
    expect(converseFor('anthropic-claude').buildRequest('Hi', { topK: 200 })).toEqual({
      messages: [{ role: 'user', content: [{ text: 'Hi' }] }],
      inferenceConfig: { maxTokens: 1024 },
      additionalModelRequestFields: { top_k: 200 },
    });
    expect(converseFor('amazon-nova').buildRequest('Hi', { topK: 20, temperature: 0.3 })).toEqual({
      messages: [{ role: 'user', content: [{ text: 'Hi' }] }],
      inferenceConfig: { maxTokens: 1024, temperature: 0.3 },
      additionalModelRequestFields: { inferenceConfig: { topK: 20 } },
    });
  });
});

describe('Converse adapter: parameters', () => {
  it('rejects topK where Converse has no documented field for it, saying why', () => {
    expect(() => converse.validateParams({ topK: 10 })).toThrow(ModelParamsError);
    expect(() => converse.validateParams({ topK: 10 })).toThrow(/inferenceConfig has no topK field/);
    expect(() => converseFor('meta-llama').validateParams({ topK: 10 })).toThrow(/Converse requests to meta-llama models do not take topK/);
    expect(() => converseFor('mistral').validateParams({ topK: 10 })).toThrow(/anthropic-claude, amazon-nova/);
    expect(() => converseFor('anthropic-claude').validateParams({ topK: 10 })).not.toThrow();
    expect(() => converseFor('amazon-nova').validateParams({ topK: -1 })).toThrow(/topK/);
  });

  it('names other parameters it does not take and checks ranges', () => {
    expect(() => converse.validateParams({ dimensions: 512, normalize: true })).toThrow(/converse models do not take dimensions, normalize/);
    expect(() => converse.validateParams({ maxTokens: 1, temperature: 1, topP: 0, stopSequences: ['x'], system: 's' })).not.toThrow();
    expect(() => converse.validateParams({ maxTokens: 0 })).toThrow(/maxTokens must be an integer ≥ 1/);
    expect(() => converse.validateParams({ temperature: 1.01 })).toThrow(/temperature must be a number from 0 to 1/);
    expect(() => converse.validateParams({ topP: -0.1 })).toThrow(/topP/);
    expect(() => converse.validateParams({ stopSequences: [''] })).toThrow(/non-empty strings/);
    expect(() => converse.validateParams({ stopSequences: Array(2501).fill('x') })).toThrow(/at most 2500/);
  });

  it('hands out one adapter per family, all of family "converse"', () => {
    expect(converseFor('meta-llama')).toBe(converseFor('meta-llama'));
    expect(converseFor('meta-llama')).not.toBe(converseFor('amazon-nova'));
    expect(converseFor('meta-llama')).toMatchObject({ family: 'converse', task: 'text', chatFamily: 'meta-llama' });
  });
});

describe('Converse adapter: responses', () => {
  // Example response from https://docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference-call.html
  const example = {
    output: {
      message: {
        role: 'assistant',
        content: [
          {
            text: 'Here is a list of 3 pop songs by artists from the United Kingdom:\n\n1. "Wannabe" by Spice Girls\n2. "Bitter Sweet Symphony" by The Verve \n3. "Don\'t Look Back in Anger" by Oasis',
          },
        ],
      },
    },
    stopReason: 'end_turn',
    usage: { inputTokens: 125, outputTokens: 60, totalTokens: 185 },
    metrics: { latencyMs: 1175 },
  };

  it('reads the documented example: text, stopReason, usage', () => {
    expect(converse.parseResponse(example)).toEqual({
      text: 'Here is a list of 3 pop songs by artists from the United Kingdom:\n\n1. "Wannabe" by Spice Girls\n2. "Bitter Sweet Symphony" by The Verve \n3. "Don\'t Look Back in Anger" by Oasis',
      stopReason: 'end_turn',
      inputTokens: 125,
      outputTokens: 60,
    });
    expect(converseFor('meta-llama').parseResponse(example).outputTokens).toBe(60);
  });

  it('joins several text blocks and skips non-text blocks', () => {
    const output = {
      output: { message: { role: 'assistant', content: [{ text: 'a' }, { reasoningContent: { reasoningText: { text: 'r' } } }, { text: 'b' }] } },
      stopReason: 'max_tokens',
      usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 },
    };
    expect(converse.parseResponse(output)).toEqual({ text: 'ab', stopReason: 'max_tokens', inputTokens: 3, outputTokens: 2 });
  });

  it.each([
    ['a Claude Messages response', { content: [{ type: 'text', text: 'x' }], usage: { input_tokens: 1, output_tokens: 1 } }],
    ['output without message', { output: {}, stopReason: 'end_turn' }],
    ['an array', [example]],
  ])('throws ResponseShapeError on %s', (_name, output) => {
    expect(() => converse.parseResponse(output)).toThrow(ResponseShapeError);
  });
});
