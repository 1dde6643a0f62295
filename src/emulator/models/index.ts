import type { InvocationType } from '../validation';
import { anthropicAnswerText, invokeAnthropic } from './anthropic';
import { cohereEmbedding, invokeCohere } from './cohere';
import { Answered, Malformed, isObject, typeName } from './common';
import { converseAnswerText, invokeConverse } from './converse';
import { invokeLlama, llamaAnswerText } from './llama';
import { invokeMistral, mistralAnswerText } from './mistral';
import { invokeNova, novaAnswerText } from './nova';
import { invokeTitan, titanEmbedding } from './titan';

export { anthropicAnswerText } from './anthropic';
export { titanEmbedding } from './titan';

export type ModelFamily = 'anthropic' | 'titan-embed-v2' | 'nova' | 'llama' | 'mistral' | 'cohere-embed';

/**
 * Which base ids each family covers. Newer ids of a family with a different body (Mistral Large
 * 2407 / Pixtral's chat-completion API, Cohere Embed v4, Nova Canvas/Reel/Sonic) stay unknown
 * rather than being answered in a shape they would not get from Bedrock.
 */
const FAMILIES: Array<[ModelFamily, RegExp]> = [
  ['anthropic', /^anthropic\./],
  ['titan-embed-v2', /^amazon\.titan-embed-text-v2/],
  ['nova', /^amazon\.nova-(?:2-)?(?:micro|lite|pro|premier)-v\d/],
  ['llama', /^meta\.llama[34]-/],
  ['mistral', /^mistral\.(?:mistral-7b-instruct|mixtral-8x7b-instruct|mistral-large-2402|mistral-small-2402)-/],
  ['cohere-embed', /^cohere\.embed-(?:english|multilingual)-v3/],
];

const EMBEDDING_FAMILIES: readonly ModelFamily[] = ['titan-embed-v2', 'cohere-embed'];

const PROFILE_PREFIX = /^(us|eu|apac|global|us-gov|ca|jp|au)\./;
const MODEL_ARN = /^arn:aws[a-z-]*:bedrock:[^:]*:[^:]*:(?:foundation-model|inference-profile|system-defined-inference-profile)\/(.+)$/;

/** The foundation-model id inside a bare id, a cross-region inference-profile id, or a model/profile ARN. */
export function baseModelId(modelId: string): string {
  const arn = MODEL_ARN.exec(modelId);
  return (arn ? arn[1] : modelId).replace(PROFILE_PREFIX, '');
}

export function modelFamily(modelId: string): ModelFamily | undefined {
  const base = baseModelId(modelId);
  return FAMILIES.find(([, re]) => re.test(base))?.[0];
}

/** Embedding models have no Converse form; Create refuses Converse jobs for them. */
export const supportsConverse = (family: ModelFamily) => !EMBEDDING_FAMILIES.includes(family);

/** Bedrock's per-model minimum records per job: 100, except 50 for Llama 4 Scout. */
export const minRecordsPerJob = (modelId: string) => (baseModelId(modelId).startsWith('meta.llama4-scout') ? 50 : 100);

export type FakeResult = Answered | { ok: false; message: string };

function familyOf(modelId: string): ModelFamily {
  const family = modelFamily(modelId);
  if (!family) throw new Error(`${modelId} is not a model the Bedrock emulator runs`);
  return family;
}

/**
 * The answer text of a chat record, exactly as its modelOutput will hold it, for any chat family:
 * `Emulated answer <first 16 hex of sha256(canonical JSON of modelInput)> to: <user text>`, where
 * <user text> is the start (60 characters, whitespace collapsed) of the last user message (Claude,
 * Nova, Converse) or of the prompt's last user turn with chat-template tokens removed (Llama,
 * Mistral), and the whole is cut to N*4 characters when longer than that, N being max_tokens
 * (Claude, Mistral), max_gen_len (Llama), inferenceConfig.maxTokens else max_new_tokens (Nova),
 * inferenceConfig.maxTokens (Converse). invocationType 'Converse' uses the Converse rule whatever the
 * family. The body is not validated: for a body that becomes an error line the value means nothing.
 * Throws for embedding models and unknown ids.
 */
export function emulatedAnswerText(modelId: string, modelInput: unknown, invocationType: InvocationType = 'InvokeModel'): string {
  const family = familyOf(modelId);
  if (EMBEDDING_FAMILIES.includes(family)) throw new Error(`${modelId} is an embedding model; use emulatedEmbedding`);
  if (invocationType === 'Converse') return converseAnswerText(modelInput);
  switch (family) {
    case 'nova':
      return novaAnswerText(modelInput);
    case 'llama':
      return llamaAnswerText(modelInput);
    case 'mistral':
      return mistralAnswerText(modelInput);
    default:
      return anthropicAnswerText(modelInput);
  }
}

/**
 * The float vector a single-text embedding record returns: Titan's `embedding` for inputText
 * (dimensions/normalize honoured), or Cohere's embeddings[0] / embeddings.float[0] for texts[0]
 * (1024 dims, unit length, seeded by base model id + input_type + text, so profile ids and ARNs
 * give the same vector as the bare id). Throws for chat models and unknown ids.
 */
export function emulatedEmbedding(modelId: string, modelInput: unknown): number[] {
  const family = familyOf(modelId);
  if (family === 'titan-embed-v2') return titanEmbedding(modelInput);
  if (family === 'cohere-embed') return cohereEmbedding(baseModelId(modelId), modelInput);
  throw new Error(`${modelId} is not an embedding model; use emulatedAnswerText`);
}

function invokeModel(family: ModelFamily, baseId: string, body: Record<string, unknown>): Answered {
  switch (family) {
    case 'anthropic':
      return invokeAnthropic(baseId, body);
    case 'titan-embed-v2':
      return invokeTitan(body);
    case 'nova':
      return invokeNova(body);
    case 'llama':
      return invokeLlama(baseId, body);
    case 'mistral':
      return invokeMistral(baseId, body);
    case 'cohere-embed':
      return invokeCohere(baseId, body);
  }
}

/** Answers one record's modelInput as the model would, or gives the per-record error Bedrock would write. */
export function invokeFake(family: ModelFamily, invocationType: InvocationType, modelId: string, modelInput: unknown): FakeResult {
  if (!isObject(modelInput)) {
    return { ok: false, message: new Malformed(`#: expected type: JSONObject, found: ${modelInput === undefined ? 'Null' : typeName(modelInput)}`).message };
  }
  const baseId = baseModelId(modelId);
  try {
    if (invocationType === 'Converse') {
      if (!supportsConverse(family)) throw new Error(`The model ${modelId} does not support the Converse API.`);
      return invokeConverse(baseId, modelInput);
    }
    return invokeModel(family, baseId, modelInput);
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}
