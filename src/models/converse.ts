// Request/response shapes: https://docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference-call.html and APIReference/API_runtime_InferenceConfiguration.html
import { DEFAULT_MAX_TOKENS, checkInt, checkNumber, checkStopSequences, checkString, parseMessageOutput } from './checks';
import { ModelAdapter, ModelParams, ModelParamsError, ParsedResponse, rejectUnsupportedParams } from './types';

/** InferenceConfiguration.stopSequences: at most 2,500 entries (API reference). */
export const CONVERSE_MAX_STOP_SEQUENCES = 2500;

/**
 * Converse's `inferenceConfig` has no topK. AWS documents passing it in
 * `additionalModelRequestFields`, under the model's own field name, for these families only:
 * Claude `{top_k}` (conversation-inference-examples.html), Nova `{inferenceConfig: {topK}}`
 * (nova/latest/userguide/using-converse-api.html). Other families get a ModelParamsError.
 */
const TOP_K_FIELDS: Readonly<Record<string, (topK: number) => Record<string, unknown>>> = {
  'anthropic-claude': (topK) => ({ top_k: topK }),
  'amazon-nova': (topK) => ({ inferenceConfig: { topK } }),
};

/** A Converse adapter; `chatFamily` is the InvokeModel family of the model it was resolved for, if any. */
export interface ConverseAdapter extends ModelAdapter {
  readonly chatFamily?: string;
}

function makeConverseAdapter(chatFamily?: string): ConverseAdapter {
  const topKField = chatFamily !== undefined ? TOP_K_FIELDS[chatFamily] : undefined;
  return {
    family: 'converse',
    task: 'text',
    chatFamily,

    validateParams(params: ModelParams): void {
      if (params.topK !== undefined && !topKField) {
        const routes = Object.keys(TOP_K_FIELDS).join(', ');
        throw new ModelParamsError(
          `Converse requests${chatFamily ? ` to ${chatFamily} models` : ''} do not take topK: Converse's inferenceConfig has no topK field, ` +
            `and AWS documents passing it through additionalModelRequestFields only for ${routes} models`,
        );
      }
      rejectUnsupportedParams(this.family, params, ['maxTokens', 'temperature', 'topP', 'stopSequences', 'system', ...(topKField ? (['topK'] as const) : [])]);
      checkInt(this.family, 'maxTokens', params.maxTokens, 1);
      checkNumber(this.family, 'temperature', params.temperature, 0, 1);
      checkNumber(this.family, 'topP', params.topP, 0, 1);
      checkInt(this.family, 'topK', params.topK, 0);
      checkStopSequences(this.family, params.stopSequences, CONVERSE_MAX_STOP_SEQUENCES);
      checkString(this.family, 'system', params.system);
    },

    buildRequest(prompt: string, params: ModelParams): Record<string, unknown> {
      // maxTokens is always sent: Converse's default is the model's maximum, which would make the
      // output budget (and the cost bound) change when a run switches from InvokeModel to Converse.
      const inferenceConfig: Record<string, unknown> = { maxTokens: params.maxTokens ?? DEFAULT_MAX_TOKENS };
      if (params.temperature !== undefined) inferenceConfig.temperature = params.temperature;
      if (params.topP !== undefined) inferenceConfig.topP = params.topP;
      if (params.stopSequences !== undefined) inferenceConfig.stopSequences = params.stopSequences;
      const body: Record<string, unknown> = { messages: [{ role: 'user', content: [{ text: prompt }] }] };
      if (params.system !== undefined) body.system = [{ text: params.system }];
      body.inferenceConfig = inferenceConfig;
      if (params.topK !== undefined && topKField) body.additionalModelRequestFields = topKField(params.topK);
      return body;
    },

    parseResponse(output: unknown): ParsedResponse {
      return parseMessageOutput('Converse', output);
    },
  };
}

/** The family-agnostic Converse adapter: every Converse inferenceConfig field, no topK. */
export const converse: ConverseAdapter = makeConverseAdapter();

const byFamily = new Map<string, ConverseAdapter>();

/** The Converse adapter for models of `chatFamily` (one instance per family); it adds topK where AWS documents how. */
export function converseFor(chatFamily: string): ConverseAdapter {
  let adapter = byFamily.get(chatFamily);
  if (!adapter) {
    adapter = makeConverseAdapter(chatFamily);
    byFamily.set(chatFamily, adapter);
  }
  return adapter;
}
