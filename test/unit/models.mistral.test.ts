import { mistralPrompt, mistralText } from '../../src/models/mistral';
import { ModelParamsError, ResponseShapeError } from '../../src/models/types';

describe('Mistral text adapter: request body', () => {
  // Fields and prompt format per https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-mistral-text-completion.html
  it('builds the prompt with the system text leading the instruction, and maps every parameter', () => {
    expect(
      mistralText.buildRequest('What is your favourite condiment?', {
        system: 'Answer in one word.',
        maxTokens: 200,
        temperature: 0.5,
        topP: 0.9,
        topK: 50,
        stopSequences: ['</s>'],
      }),
    ).toEqual({
      prompt: '<s>[INST] Answer in one word.\n\nWhat is your favourite condiment? [/INST]',
      max_tokens: 200,
      temperature: 0.5,
      top_p: 0.9,
      top_k: 50,
      stop: ['</s>'],
    });
  });

  it('matches the documented single-turn prompt without a system prompt; max_tokens defaults to 1024', () => {
    expect(mistralText.buildRequest('What is your favourite condiment?', {})).toEqual({
      prompt: '<s>[INST] What is your favourite condiment? [/INST]',
      max_tokens: 1024,
    });
    expect(mistralPrompt('x', 'sys')).toBe('<s>[INST] sys\n\nx [/INST]');
  });
});

describe('Mistral text adapter: parameters', () => {
  it('accepts the documented ranges', () => {
    expect(() => mistralText.validateParams({ maxTokens: 8192, temperature: 1, topP: 0, topK: 200, stopSequences: Array(10).fill('x') })).not.toThrow();
    expect(() => mistralText.validateParams({ maxTokens: 1, temperature: 0, topP: 1, topK: 1 })).not.toThrow();
  });

  it('names parameters Mistral does not take', () => {
    expect(() => mistralText.validateParams({ normalize: true, truncate: 'END' })).toThrow(/mistral models do not take normalize, truncate/);
  });

  it.each([
    [{ temperature: 1.1 }, /temperature must be a number from 0 to 1/],
    [{ topP: 2 }, /topP/],
    [{ topK: 0 }, /topK must be an integer from 1 to 200/],
    [{ topK: 201 }, /topK/],
    [{ maxTokens: 8193 }, /maxTokens must be an integer from 1 to 8192/],
    [{ stopSequences: Array(11).fill('x') }, /stopSequences takes at most 10 entries/],
    [{ stopSequences: [''] }, /non-empty strings/],
  ])('rejects %j', (params, message) => {
    expect(() => mistralText.validateParams(params)).toThrow(ModelParamsError);
    expect(() => mistralText.validateParams(params)).toThrow(message);
  });
});

describe('Mistral text adapter: responses', () => {
  // Response shape of the page above ({"outputs": [{"text": string, "stop_reason": string}]}), placeholders filled in.
  it('reads outputs[0].text and stop_reason; there are no token counts', () => {
    const output = { outputs: [{ text: " Well, I'm quite partial to a good squeeze of fresh lemon juice.", stop_reason: 'stop' }] };
    const parsed = mistralText.parseResponse(output);
    expect(parsed).toEqual({ text: " Well, I'm quite partial to a good squeeze of fresh lemon juice.", stopReason: 'stop' });
    expect(parsed.inputTokens).toBeUndefined();
    expect(parsed.outputTokens).toBeUndefined();
  });

  it('reads only the first output and keeps "length"', () => {
    expect(mistralText.parseResponse({ outputs: [{ text: 'a', stop_reason: 'length' }, { text: 'b', stop_reason: 'stop' }] })).toEqual({
      text: 'a',
      stopReason: 'length',
    });
  });

  it.each([
    ['a Llama response', { generation: 'x', stop_reason: 'stop' }],
    ['empty outputs', { outputs: [] }],
    ['outputs[0] without text', { outputs: [{ stop_reason: 'stop' }] }],
  ])('throws ResponseShapeError on %s', (_name, output) => {
    expect(() => mistralText.parseResponse(output)).toThrow(ResponseShapeError);
  });
});
