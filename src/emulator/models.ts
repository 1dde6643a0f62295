import { canonicalJson, seededRandom, sha256Hex } from './hash';
import type { InvocationType } from './validation';

export type ModelFamily = 'anthropic' | 'titan-embed-v2';

const PROFILE_PREFIX = /^(us|eu|apac|global|us-gov|ca|jp|au)\./;
const MODEL_ARN = /^arn:aws[a-z-]*:bedrock:[^:]*:[^:]*:(?:foundation-model|inference-profile|system-defined-inference-profile)\/(.+)$/;

/** The foundation-model id inside a bare id, a cross-region inference-profile id, or a model/profile ARN. */
export function baseModelId(modelId: string): string {
  const arn = MODEL_ARN.exec(modelId);
  return (arn ? arn[1] : modelId).replace(PROFILE_PREFIX, '');
}

export function modelFamily(modelId: string): ModelFamily | undefined {
  const base = baseModelId(modelId);
  if (base.startsWith('anthropic.')) return 'anthropic';
  if (base.startsWith('amazon.titan-embed-text-v2')) return 'titan-embed-v2';
  return undefined;
}

export type FakeResult =
  | { ok: true; modelOutput: Record<string, unknown>; inputTokens: number; outputTokens: number }
  | { ok: false; message: string };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const tokens = (chars: number) => Math.max(1, Math.ceil(chars / 4));

/** Bedrock's wording for InvokeModel bodies that fail the model's JSON schema. */
class Malformed extends Error {
  constructor(detail: string) {
    super(`Malformed input request: ${detail}, please reformat your input and try again.`);
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'Null';
  if (Array.isArray(v)) return 'JSONArray';
  if (typeof v === 'object') return 'JSONObject';
  if (typeof v === 'number') return Number.isInteger(v) ? 'Integer' : 'BigDecimal';
  return typeof v === 'string' ? 'String' : 'Boolean';
}

function expect(path: string, v: unknown, want: string, ok: boolean): void {
  if (!ok) throw new Malformed(`${path}: expected type: ${want}, found: ${typeName(v)}`);
}

function noExtraneous(path: string, obj: Json, allowed: string[]): void {
  const extra = Object.keys(obj).filter((k) => !allowed.includes(k));
  if (extra.length) throw new Malformed(`${path}: extraneous key [${extra[0]}] is not permitted`);
}

function required(path: string, obj: Json, key: string): unknown {
  if (obj[key] === undefined) throw new Malformed(`${path}: required key [${key}] not found`);
  return obj[key];
}

function blockText(block: unknown): string {
  return isObject(block) && typeof block.text === 'string' ? block.text : '';
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  return Array.isArray(content) ? content.map(blockText).join('') : '';
}

/** Text of the last user turn in either a Messages-API or a Converse body. */
function lastUserText(modelInput: unknown): string {
  if (!isObject(modelInput) || !Array.isArray(modelInput.messages)) return '';
  const users = modelInput.messages.filter((m) => isObject(m) && m.role === 'user');
  return users.length ? contentText((users[users.length - 1] as Json).content) : '';
}

function maxTokensOf(modelInput: unknown): number | undefined {
  if (!isObject(modelInput)) return undefined;
  if (typeof modelInput.max_tokens === 'number') return modelInput.max_tokens;
  const cfg = modelInput.inferenceConfig;
  return isObject(cfg) && typeof cfg.maxTokens === 'number' ? cfg.maxTokens : undefined;
}

function fullAnswer(modelInput: unknown): string {
  const echo = lastUserText(modelInput).replace(/\s+/g, ' ').trim().slice(0, 60);
  return `Emulated answer ${sha256Hex(canonicalJson(modelInput)).slice(0, 16)} to: ${echo}`;
}

/**
 * The text the emulator answers for a Claude record (Messages or Converse body): a hash of the
 * whole canonicalised modelInput plus the start of the last user message, cut to max_tokens*4
 * characters when longer (the record then reports stop_reason "max_tokens").
 */
export function anthropicAnswerText(modelInput: unknown): string {
  const full = fullAnswer(modelInput);
  const max = maxTokensOf(modelInput);
  return max !== undefined && max > 0 && full.length > max * 4 ? full.slice(0, max * 4) : full;
}

const TITAN_DIMENSIONS = [256, 512, 1024];

/** The Titan V2 vector for a record: sfc32 seeded by sha256(inputText), unit length unless normalize is false. */
export function titanEmbedding(modelInput: unknown): number[] {
  const input = isObject(modelInput) ? modelInput : {};
  const text = typeof input.inputText === 'string' ? input.inputText : '';
  const dims = TITAN_DIMENSIONS.includes(input.dimensions as number) ? (input.dimensions as number) : 1024;
  const next = seededRandom(`titan-embed-v2:${text}`);
  const raw = Array.from({ length: dims }, () => next() * 2 - 1);
  const scale = input.normalize === false ? 1 : 1 / Math.hypot(...raw);
  // Rounded so an output line stays compact; the norm error this adds is ~1e-8.
  return raw.map((x) => Math.round(x * scale * 1e8) / 1e8);
}

function messagesInputChars(body: Json): number {
  let chars = 0;
  if (typeof body.system === 'string') chars += body.system.length;
  else if (Array.isArray(body.system)) chars += body.system.map(blockText).join('').length;
  for (const m of body.messages as Json[]) chars += contentText(m.content).length;
  return chars;
}

const ANTHROPIC_KEYS = [
  'anthropic_version', 'anthropic_beta', 'max_tokens', 'messages', 'system', 'temperature', 'top_p', 'top_k',
  'stop_sequences', 'metadata', 'thinking', 'tools', 'tool_choice',
];
const CONTENT_TYPES = ['text', 'image', 'document'];

function checkUnit(path: string, v: unknown): void {
  if (v === undefined) return;
  expect(path, v, 'Number', typeof v === 'number');
  if ((v as number) < 0 || (v as number) > 1) throw new Malformed(`${path}: ${v} is not between 0 and 1`);
}

function validateAnthropic(body: Json): void {
  noExtraneous('#', body, ANTHROPIC_KEYS);
  const version = required('#', body, 'anthropic_version');
  if (version !== 'bedrock-2023-05-31') throw new Malformed(`#/anthropic_version: ${JSON.stringify(version)} is not a valid enum value`);
  const max = required('#', body, 'max_tokens');
  expect('#/max_tokens', max, 'Integer', typeof max === 'number' && Number.isInteger(max));
  if ((max as number) < 1) throw new Malformed(`#/max_tokens: ${max} is not greater or equal to 1`);
  const messages = required('#', body, 'messages');
  expect('#/messages', messages, 'JSONArray', Array.isArray(messages));
  if ((messages as unknown[]).length === 0) throw new Malformed('#/messages: expected minimum item count: 1, found: 0');
  (messages as unknown[]).forEach((m, i) => {
    const p = `#/messages/${i}`;
    expect(p, m, 'JSONObject', isObject(m));
    const msg = m as Json;
    noExtraneous(p, msg, ['role', 'content']);
    const role = required(p, msg, 'role');
    if (role !== 'user' && role !== 'assistant') throw new Malformed(`${p}/role: ${JSON.stringify(role)} is not a valid enum value`);
    const content = required(p, msg, 'content');
    if (typeof content === 'string') return;
    expect(`${p}/content`, content, 'JSONArray', Array.isArray(content));
    if ((content as unknown[]).length === 0) throw new Malformed(`${p}/content: expected minimum item count: 1, found: 0`);
    (content as unknown[]).forEach((block, j) => {
      const bp = `${p}/content/${j}`;
      expect(bp, block, 'JSONObject', isObject(block));
      const type = (block as Json).type;
      if (!CONTENT_TYPES.includes(type as string)) throw new Malformed(`${bp}/type: ${JSON.stringify(type)} is not a valid enum value`);
      if (type === 'text') expect(`${bp}/text`, (block as Json).text, 'String', typeof (block as Json).text === 'string');
    });
  });
  if (body.system !== undefined) expect('#/system', body.system, 'String', typeof body.system === 'string' || Array.isArray(body.system));
  checkUnit('#/temperature', body.temperature);
  checkUnit('#/top_p', body.top_p);
  if (body.top_k !== undefined) expect('#/top_k', body.top_k, 'Integer', Number.isInteger(body.top_k) && (body.top_k as number) >= 0);
  if (body.stop_sequences !== undefined) {
    expect('#/stop_sequences', body.stop_sequences, 'JSONArray', Array.isArray(body.stop_sequences) && body.stop_sequences.every((s) => typeof s === 'string'));
  }
}

/** `anthropic.claude-3-5-haiku-20241022-v1:0` → `claude-3-5-haiku-20241022`, as the Messages API reports it. */
function claudeModelName(modelId: string): string {
  return baseModelId(modelId).replace(/^anthropic\./, '').replace(/-v\d+(:\d+)?$/, '');
}

function invokeAnthropic(modelId: string, body: Json): FakeResult {
  validateAnthropic(body);
  const text = anthropicAnswerText(body);
  const truncated = text.length < fullAnswer(body).length;
  const inputTokens = tokens(messagesInputChars(body));
  const outputTokens = truncated ? (body.max_tokens as number) : tokens(text.length);
  return {
    ok: true,
    inputTokens,
    outputTokens,
    modelOutput: {
      id: `msg_bdrk_${sha256Hex(`id:${canonicalJson(body)}`).slice(0, 24)}`,
      type: 'message',
      role: 'assistant',
      model: claudeModelName(modelId),
      content: [{ type: 'text', text }],
      stop_reason: truncated ? 'max_tokens' : 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: inputTokens, output_tokens: outputTokens },
    },
  };
}

const CONVERSE_KEYS = ['messages', 'system', 'inferenceConfig', 'additionalModelRequestFields', 'additionalModelResponseFieldPaths', 'promptVariables', 'requestMetadata', 'performanceConfig'];

function invokeConverse(body: Json): FakeResult {
  const extra = Object.keys(body).filter((k) => !CONVERSE_KEYS.includes(k));
  if (extra.length) throw new Error(`The request body contains an unsupported field: ${extra[0]}`);
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) throw new Error('A conversation must have at least one message in messages.');
  messages.forEach((m, i) => {
    if (!isObject(m) || (m.role !== 'user' && m.role !== 'assistant')) throw new Error(`messages.${i}.role must be "user" or "assistant".`);
    if (!Array.isArray(m.content) || m.content.length === 0 || !m.content.every(isObject)) {
      throw new Error(`messages.${i}.content must be a non-empty list of content blocks.`);
    }
  });
  const cfg = body.inferenceConfig;
  if (cfg !== undefined && (!isObject(cfg) || (cfg.maxTokens !== undefined && !(Number.isInteger(cfg.maxTokens) && (cfg.maxTokens as number) >= 1)))) {
    throw new Error('inferenceConfig.maxTokens must be a positive integer.');
  }
  const text = anthropicAnswerText(body);
  const truncated = text.length < fullAnswer(body).length;
  const inputTokens = tokens(messagesInputChars(body));
  const outputTokens = truncated ? ((cfg as Json).maxTokens as number) : tokens(text.length);
  return {
    ok: true,
    inputTokens,
    outputTokens,
    modelOutput: {
      output: { message: { role: 'assistant', content: [{ text }] } },
      stopReason: truncated ? 'max_tokens' : 'end_turn',
      usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
      metrics: { latencyMs: 100 + (outputTokens % 900) },
    },
  };
}

function invokeTitan(body: Json): FakeResult {
  noExtraneous('#', body, ['inputText', 'dimensions', 'normalize', 'embeddingTypes']);
  const text = required('#', body, 'inputText');
  expect('#/inputText', text, 'String', typeof text === 'string');
  const len = (text as string).length;
  if (len < 1) throw new Malformed('#/inputText: expected minLength: 1, actual: 0');
  if (len > 50_000) throw new Malformed(`#/inputText: expected maxLength: 50000, actual: ${len}`);
  if (body.dimensions !== undefined && !TITAN_DIMENSIONS.includes(body.dimensions as number)) {
    throw new Malformed(`#/dimensions: ${JSON.stringify(body.dimensions)} is not a valid enum value`);
  }
  if (body.normalize !== undefined) expect('#/normalize', body.normalize, 'Boolean', typeof body.normalize === 'boolean');
  const types = body.embeddingTypes ?? ['float'];
  if (!Array.isArray(types) || types.length === 0 || !types.every((t) => t === 'float' || t === 'binary')) {
    throw new Malformed('#/embeddingTypes: expected a non-empty array of "float" | "binary"');
  }
  const embedding = titanEmbedding(body);
  const byType: Json = {};
  if (types.includes('float')) byType.float = embedding;
  if (types.includes('binary')) byType.binary = embedding.map((x) => (x > 0 ? 1 : 0));
  const inputTokens = tokens(len);
  return {
    ok: true,
    inputTokens,
    outputTokens: 0,
    modelOutput: { embedding, embeddingsByType: byType, inputTextTokenCount: inputTokens },
  };
}

/** Answers one record's modelInput as the model would, or gives the per-record error Bedrock would write. */
export function invokeFake(family: ModelFamily, invocationType: InvocationType, modelId: string, modelInput: unknown): FakeResult {
  if (!isObject(modelInput)) {
    return { ok: false, message: new Malformed(`#: expected type: JSONObject, found: ${modelInput === undefined ? 'Null' : typeName(modelInput)}`).message };
  }
  try {
    if (invocationType === 'Converse') return invokeConverse(modelInput);
    return family === 'anthropic' ? invokeAnthropic(modelId, modelInput) : invokeTitan(modelInput);
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}
