// Request/response shapes: https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-meta.html
import { DEFAULT_MAX_TOKENS, checkInt, checkNumber, checkString } from './checks';
import { ModelAdapter, ModelParams, ParsedResponse, ResponseShapeError, isObject, optionalNumber, rejectUnsupportedParams } from './types';

/** Bedrock's documented range for `max_gen_len`. */
export const LLAMA_MAX_GEN_LEN = 2048;

/**
 * The Llama 3 instruct chat template (one optional system turn, one user turn, then the open
 * assistant header), which Llama 3.x / 4 take as a raw `prompt` through InvokeModel.
 */
export function llama3Prompt(user: string, system?: string): string {
  const systemTurn = system !== undefined ? `<|start_header_id|>system<|end_header_id|>\n\n${system}<|eot_id|>` : '';
  return `<|begin_of_text|>${systemTurn}<|start_header_id|>user<|end_header_id|>\n\n${user}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`;
}

/** Meta Llama 3.x / 4 instruct models through the `{prompt, max_gen_len, …}` body. */
export const metaLlama: ModelAdapter = {
  family: 'meta-llama',
  task: 'text',

  validateParams(params: ModelParams): void {
    rejectUnsupportedParams(this.family, params, ['maxTokens', 'temperature', 'topP', 'system'], {
      topK: "Llama's InvokeModel body has no top_k field",
      stopSequences: "Llama's InvokeModel body has no stop-sequence field",
    });
    checkInt(this.family, 'maxTokens', params.maxTokens, 1, LLAMA_MAX_GEN_LEN);
    checkNumber(this.family, 'temperature', params.temperature, 0, 1);
    checkNumber(this.family, 'topP', params.topP, 0, 1);
    checkString(this.family, 'system', params.system);
  },

  buildRequest(prompt: string, params: ModelParams): Record<string, unknown> {
    const body: Record<string, unknown> = {
      prompt: llama3Prompt(prompt, params.system),
      max_gen_len: params.maxTokens ?? DEFAULT_MAX_TOKENS,
    };
    if (params.temperature !== undefined) body.temperature = params.temperature;
    if (params.topP !== undefined) body.top_p = params.topP;
    return body;
  },

  parseResponse(output: unknown): ParsedResponse {
    if (!isObject(output) || typeof output.generation !== 'string') {
      throw new ResponseShapeError('Llama response has no generation string');
    }
    return {
      text: output.generation,
      stopReason: typeof output.stop_reason === 'string' ? output.stop_reason : undefined,
      inputTokens: optionalNumber(output.prompt_token_count),
      outputTokens: optionalNumber(output.generation_token_count),
    };
  },
};
