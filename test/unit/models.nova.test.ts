import { amazonNova } from '../../src/models/nova';
import { ModelParamsError, ResponseShapeError } from '../../src/models/types';

describe('Amazon Nova adapter: request body', () => {
  // Field names per https://docs.aws.amazon.com/nova/latest/userguide/complete-request-schema.html
  it('builds the messages-v1 body with system, user turn and every inference parameter', () => {
    expect(
      amazonNova.buildRequest('Summarise: cats', { maxTokens: 300, temperature: 0.3, topP: 0.9, topK: 20, stopSequences: ['END'], system: 'Be brief.' }),
    ).toEqual({
      schemaVersion: 'messages-v1',
      system: [{ text: 'Be brief.' }],
      messages: [{ role: 'user', content: [{ text: 'Summarise: cats' }] }],
      inferenceConfig: { maxTokens: 300, temperature: 0.3, topP: 0.9, topK: 20, stopSequences: ['END'] },
    });
  });

  it('defaults maxTokens to 1024 and leaves out system and unset parameters', () => {
    expect(amazonNova.buildRequest('Hi', {})).toEqual({
      schemaVersion: 'messages-v1',
      messages: [{ role: 'user', content: [{ text: 'Hi' }] }],
      inferenceConfig: { maxTokens: 1024 },
    });
  });
});

describe('Amazon Nova adapter: parameters', () => {
  it('accepts every parameter at the ends of its range', () => {
    expect(() => amazonNova.validateParams({ maxTokens: 1, temperature: 0, topP: 1, topK: 0, stopSequences: ['x'], system: 's' })).not.toThrow();
    expect(() => amazonNova.validateParams({ temperature: 1, topP: 0 })).not.toThrow();
  });

  it('names the parameters Nova does not take', () => {
    expect(() => amazonNova.validateParams({ dimensions: 256, inputType: 'search_query' })).toThrow(ModelParamsError);
    expect(() => amazonNova.validateParams({ dimensions: 256, inputType: 'search_query' })).toThrow(/do not take dimensions, inputType/);
  });

  it.each([
    [{ temperature: 1.5 }, /temperature must be a number from 0 to 1/],
    [{ temperature: -0.1 }, /temperature/],
    [{ topP: 1.01 }, /topP/],
    [{ maxTokens: 0 }, /maxTokens must be an integer ≥ 1/],
    [{ maxTokens: 12.5 }, /maxTokens/],
    [{ topK: -1 }, /topK/],
    [{ stopSequences: 'END' as unknown as string[] }, /stopSequences must be an array/],
    [{ system: 42 as unknown as string }, /system must be a string/],
  ])('rejects %j', (params, message) => {
    expect(() => amazonNova.validateParams(params)).toThrow(ModelParamsError);
    expect(() => amazonNova.validateParams(params)).toThrow(message);
  });
});

describe('Amazon Nova adapter: responses', () => {
  // The InvokeModel response shape of https://docs.aws.amazon.com/nova/latest/userguide/complete-request-schema-response.html
  // (shared with Converse), with the schema's placeholders filled in: a reasoning block, then text.
  const documented = {
    output: {
      message: {
        role: 'assistant',
        content: [{ reasoningContent: { reasoningText: { text: '[REDACTED]' } } }, { text: 'Cats nap ' }, { text: 'a lot.' }],
      },
    },
    stopReason: 'end_turn',
    usage: { inputTokens: 12, outputTokens: 5, totalTokens: 17 },
    metrics: { latencyMs: 410 },
  };

  it('joins the text blocks, skipping reasoning, and reads stopReason and usage', () => {
    expect(amazonNova.parseResponse(documented)).toEqual({ text: 'Cats nap a lot.', stopReason: 'end_turn', inputTokens: 12, outputTokens: 5 });
  });

  it('reads the AWS documentation example response', () => {
    // Example response from https://docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference-call.html (same shape for Nova InvokeModel).
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
    const parsed = amazonNova.parseResponse(example);
    expect(parsed.text).toMatch(/^Here is a list of 3 pop songs.*by Oasis$/s);
    expect(parsed).toMatchObject({ stopReason: 'end_turn', inputTokens: 125, outputTokens: 60 });
  });

  it('keeps max_tokens as the stop reason and tolerates missing usage', () => {
    const parsed = amazonNova.parseResponse({ output: { message: { role: 'assistant', content: [{ text: 'half' }] } }, stopReason: 'max_tokens' });
    expect(parsed).toEqual({ text: 'half', stopReason: 'max_tokens', inputTokens: undefined, outputTokens: undefined });
  });

  it.each([
    ['a Claude response', { content: [{ type: 'text', text: 'x' }], stop_reason: 'end_turn' }],
    ['no message', { output: {}, stopReason: 'end_turn' }],
    ['content not an array', { output: { message: { content: 'x' } } }],
    ['not an object', 'x'],
  ])('throws ResponseShapeError on %s', (_name, output) => {
    expect(() => amazonNova.parseResponse(output)).toThrow(ResponseShapeError);
  });
});
