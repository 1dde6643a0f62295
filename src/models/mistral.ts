// Request/response shapes: https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-mistral-text-completion.html
import { DEFAULT_MAX_TOKENS, checkInt, checkNumber, checkStopSequences, checkString } from './checks';
import { ModelAdapter, ModelParams, ParsedResponse, ResponseShapeError, isObject, rejectUnsupportedParams } from './types';

/** Largest documented `max_tokens` over the text-completion models (Mixtral 8x7B stops at 4,096; Bedrock rejects more per record). */
export const MISTRAL_MAX_TOKENS = 8192;
export const MISTRAL_MAX_TOP_K = 200;
export const MISTRAL_MAX_STOP = 10;

/** One `[INST]` user turn; Mistral's template has no system role, so a system prompt leads the instruction. */
export function mistralPrompt(user: string, system?: string): string {
  return `<s>[INST] ${system !== undefined ? `${system}\n\n` : ''}${user} [/INST]`;
}

/** Mistral AI text-completion models (Mistral 7B Instruct, Mixtral 8x7B, Mistral Large/Small) through `{prompt, max_tokens, …}`. */
export const mistralText: ModelAdapter = {
  family: 'mistral',
  task: 'text',

  validateParams(params: ModelParams): void {
    rejectUnsupportedParams(this.family, params, ['maxTokens', 'temperature', 'topP', 'topK', 'stopSequences', 'system']);
    checkInt(this.family, 'maxTokens', params.maxTokens, 1, MISTRAL_MAX_TOKENS);
    checkNumber(this.family, 'temperature', params.temperature, 0, 1);
    checkNumber(this.family, 'topP', params.topP, 0, 1);
    checkInt(this.family, 'topK', params.topK, 1, MISTRAL_MAX_TOP_K);
    checkStopSequences(this.family, params.stopSequences, MISTRAL_MAX_STOP);
    checkString(this.family, 'system', params.system);
  },

  buildRequest(prompt: string, params: ModelParams): Record<string, unknown> {
    const body: Record<string, unknown> = {
      prompt: mistralPrompt(prompt, params.system),
      max_tokens: params.maxTokens ?? DEFAULT_MAX_TOKENS,
    };
    if (params.temperature !== undefined) body.temperature = params.temperature;
    if (params.topP !== undefined) body.top_p = params.topP;
    if (params.topK !== undefined) body.top_k = params.topK;
    if (params.stopSequences !== undefined) body.stop = params.stopSequences;
    return body;
  },

  parseResponse(output: unknown): ParsedResponse {
    const first = isObject(output) && Array.isArray(output.outputs) ? output.outputs[0] : undefined;
    if (!isObject(first) || typeof first.text !== 'string') {
      throw new ResponseShapeError('Mistral response has no outputs[0].text');
    }
    // The text-completion response carries no token counts; the job manifest has the totals.
    return { text: first.text, stopReason: typeof first.stop_reason === 'string' ? first.stop_reason : undefined };
  },
};
