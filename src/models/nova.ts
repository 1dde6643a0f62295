// Request/response shapes: https://docs.aws.amazon.com/nova/latest/userguide/complete-request-schema.html and .../complete-request-schema-response.html
import { DEFAULT_MAX_TOKENS, checkInt, checkNumber, checkStopSequences, checkString, parseMessageOutput } from './checks';
import { ModelAdapter, ModelParams, ParsedResponse, rejectUnsupportedParams } from './types';

/**
 * Amazon Nova understanding models (Micro, Lite, Pro, Premier, Nova 2 Lite) through the Nova
 * Messages body InvokeModel takes. maxTokens is only checked to be positive: its ceiling differs
 * by model (the schema page says 5k, later models allow more) and Bedrock reports an over-limit
 * value per record.
 */
export const amazonNova: ModelAdapter = {
  family: 'amazon-nova',
  task: 'text',

  validateParams(params: ModelParams): void {
    rejectUnsupportedParams(this.family, params, ['maxTokens', 'temperature', 'topP', 'topK', 'stopSequences', 'system']);
    checkInt(this.family, 'maxTokens', params.maxTokens, 1);
    checkNumber(this.family, 'temperature', params.temperature, 0, 1);
    checkNumber(this.family, 'topP', params.topP, 0, 1);
    checkInt(this.family, 'topK', params.topK, 0);
    checkStopSequences(this.family, params.stopSequences);
    checkString(this.family, 'system', params.system);
  },

  buildRequest(prompt: string, params: ModelParams): Record<string, unknown> {
    const inferenceConfig: Record<string, unknown> = { maxTokens: params.maxTokens ?? DEFAULT_MAX_TOKENS };
    if (params.temperature !== undefined) inferenceConfig.temperature = params.temperature;
    if (params.topP !== undefined) inferenceConfig.topP = params.topP;
    if (params.topK !== undefined) inferenceConfig.topK = params.topK;
    if (params.stopSequences !== undefined) inferenceConfig.stopSequences = params.stopSequences;
    const body: Record<string, unknown> = { schemaVersion: 'messages-v1' };
    if (params.system !== undefined) body.system = [{ text: params.system }];
    body.messages = [{ role: 'user', content: [{ text: prompt }] }];
    body.inferenceConfig = inferenceConfig;
    return body;
  },

  parseResponse(output: unknown): ParsedResponse {
    return parseMessageOutput('Amazon Nova', output);
  },
};
