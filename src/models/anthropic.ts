import { DEFAULT_MAX_TOKENS } from './checks';
import { ModelAdapter, ModelParams, ModelParamsError, ParsedResponse, ResponseShapeError, isObject, optionalNumber, rejectUnsupportedParams } from './types';


/** Anthropic Claude through the Messages API body that Bedrock's InvokeModel takes. */
export const anthropicClaude: ModelAdapter = {
  family: 'anthropic-claude',
  task: 'text',

  validateParams(params: ModelParams): void {
    rejectUnsupportedParams(this.family, params, ['maxTokens', 'temperature', 'topP', 'topK', 'stopSequences', 'system']);
    if (params.maxTokens !== undefined && !(Number.isInteger(params.maxTokens) && params.maxTokens > 0)) {
      throw new ModelParamsError(`maxTokens must be a positive integer, got ${JSON.stringify(params.maxTokens)}`);
    }
    if (params.temperature !== undefined && !(params.temperature >= 0 && params.temperature <= 1)) {
      throw new ModelParamsError(`temperature must be between 0 and 1 for Claude, got ${params.temperature}`);
    }
    if (params.topP !== undefined && !(params.topP >= 0 && params.topP <= 1)) {
      throw new ModelParamsError(`topP must be between 0 and 1, got ${params.topP}`);
    }
  },

  buildRequest(prompt: string, params: ModelParams): Record<string, unknown> {
    const body: Record<string, unknown> = {
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: params.maxTokens ?? DEFAULT_MAX_TOKENS,
      messages: [{ role: 'user', content: [{ type: 'text', text: prompt }] }],
    };
    if (params.system !== undefined) body.system = params.system;
    if (params.temperature !== undefined) body.temperature = params.temperature;
    if (params.topP !== undefined) body.top_p = params.topP;
    if (params.topK !== undefined) body.top_k = params.topK;
    if (params.stopSequences !== undefined) body.stop_sequences = params.stopSequences;
    return body;
  },

  parseResponse(output: unknown): ParsedResponse {
    if (!isObject(output) || !Array.isArray(output.content)) {
      throw new ResponseShapeError('Claude response has no content array');
    }
    const text = output.content
      .filter((block): block is { type: string; text: string } => isObject(block) && block.type === 'text' && typeof block.text === 'string')
      .map((block) => block.text)
      .join('');
    const usage = isObject(output.usage) ? output.usage : {};
    return {
      text,
      stopReason: typeof output.stop_reason === 'string' ? output.stop_reason : undefined,
      inputTokens: optionalNumber(usage.input_tokens),
      outputTokens: optionalNumber(usage.output_tokens),
    };
  },
};
