import { llama3Prompt, metaLlama } from '../../src/models/llama';
import { ModelParamsError, ResponseShapeError } from '../../src/models/types';

describe('Meta Llama adapter: request body', () => {
  // Body fields per https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-meta.html;
  // the prompt is the Llama 3 instruct chat template.
  it('wraps the prompt in the Llama 3 template with a system turn', () => {
    expect(metaLlama.buildRequest('What is 2+2?', { system: 'Answer with a number.', maxTokens: 64, temperature: 0.2, topP: 0.8 })).toEqual({
      prompt:
        '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nAnswer with a number.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n',
      max_gen_len: 64,
      temperature: 0.2,
      top_p: 0.8,
    });
  });

  it('has no system turn without a system prompt, and defaults max_gen_len to 1024', () => {
    expect(metaLlama.buildRequest('Hi', {})).toEqual({
      prompt: '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
      max_gen_len: 1024,
    });
    expect(llama3Prompt('Hi')).not.toContain('system');
  });
});

describe('Meta Llama adapter: parameters', () => {
  it('accepts the documented ranges, max_gen_len up to 2048', () => {
    expect(() => metaLlama.validateParams({ maxTokens: 2048, temperature: 1, topP: 0, system: 's' })).not.toThrow();
    expect(() => metaLlama.validateParams({ maxTokens: 1, temperature: 0, topP: 1 })).not.toThrow();
  });

  it('rejects topK and stopSequences, naming them and saying why', () => {
    expect(() => metaLlama.validateParams({ topK: 40 })).toThrow(ModelParamsError);
    expect(() => metaLlama.validateParams({ topK: 40 })).toThrow(/meta-llama models do not take topK \(Llama's InvokeModel body has no top_k field\)/);
    expect(() => metaLlama.validateParams({ topK: 40, stopSequences: ['END'] })).toThrow(/do not take topK, stopSequences/);
    expect(() => metaLlama.validateParams({ stopSequences: ['END'] })).toThrow(/no stop-sequence field/);
    expect(() => metaLlama.validateParams({ dimensions: 256 })).toThrow(/do not take dimensions; supported parameters: maxTokens, temperature, topP, system/);
  });

  it.each([
    [{ maxTokens: 2049 }, /maxTokens must be an integer from 1 to 2048/],
    [{ maxTokens: 0 }, /maxTokens/],
    [{ temperature: 1.2 }, /temperature must be a number from 0 to 1/],
    [{ topP: -0.5 }, /topP/],
    [{ temperature: '0.5' as unknown as number }, /temperature/],
  ])('rejects %j', (params, message) => {
    expect(() => metaLlama.validateParams(params)).toThrow(ModelParamsError);
    expect(() => metaLlama.validateParams(params)).toThrow(message);
  });
});

describe('Meta Llama adapter: responses', () => {
  // Response shape of https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-meta.html
  // ({"generation": "\n\n<response>", "prompt_token_count": int, "generation_token_count": int, "stop_reason": string}),
  // with the placeholders filled in.
  it('reads generation, stop_reason and both token counts', () => {
    const output = { generation: '\n\n2 + 2 = 4', prompt_token_count: 31, generation_token_count: 9, stop_reason: 'stop' };
    expect(metaLlama.parseResponse(output)).toEqual({ text: '\n\n2 + 2 = 4', stopReason: 'stop', inputTokens: 31, outputTokens: 9 });
  });

  it('keeps "length" when the answer hit max_gen_len', () => {
    const output = { generation: 'The answer is', prompt_token_count: 20, generation_token_count: 3, stop_reason: 'length' };
    expect(metaLlama.parseResponse(output)).toMatchObject({ stopReason: 'length', outputTokens: 3 });
  });

  it.each([
    ['a Mistral response', { outputs: [{ text: 'x', stop_reason: 'stop' }] }],
    ['generation not a string', { generation: 42, stop_reason: 'stop' }],
    ['null', null],
  ])('throws ResponseShapeError on %s', (_name, output) => {
    expect(() => metaLlama.parseResponse(output)).toThrow(ResponseShapeError);
  });
});
