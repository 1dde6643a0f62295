import { canonicalJson, seededRandom, sha256Hex } from '../hash';

export type Json = Record<string, unknown>;

/** A record the model answered; the token counts feed the manifest even when the body has none. */
export interface Answered {
  ok: true;
  modelOutput: Json;
  inputTokens: number;
  outputTokens: number;
}

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Bedrock's usual estimate, ~4 characters a token; never 0 so a tiny record still counts. */
export const tokens = (chars: number) => Math.max(1, Math.ceil(chars / 4));

/** Bedrock's wording for InvokeModel bodies that fail the model's JSON schema. */
export class Malformed extends Error {
  constructor(detail: string) {
    super(`Malformed input request: ${detail}, please reformat your input and try again.`);
  }
}

export function typeName(v: unknown): string {
  if (v === null) return 'Null';
  if (Array.isArray(v)) return 'JSONArray';
  if (typeof v === 'object') return 'JSONObject';
  if (typeof v === 'number') return Number.isInteger(v) ? 'Integer' : 'BigDecimal';
  return typeof v === 'string' ? 'String' : 'Boolean';
}

export function expect(path: string, v: unknown, want: string, ok: boolean): void {
  if (!ok) throw new Malformed(`${path}: expected type: ${want}, found: ${typeName(v)}`);
}

export function noExtraneous(path: string, obj: Json, allowed: readonly string[]): void {
  const extra = Object.keys(obj).filter((k) => !allowed.includes(k));
  if (extra.length) throw new Malformed(`${path}: extraneous key [${extra[0]}] is not permitted`);
}

export function required(path: string, obj: Json, key: string): unknown {
  if (obj[key] === undefined) throw new Malformed(`${path}: required key [${key}] not found`);
  return obj[key];
}

export function checkEnum(path: string, v: unknown, values: readonly unknown[]): void {
  if (!values.includes(v)) throw new Malformed(`${path}: ${JSON.stringify(v)} is not a valid enum value`);
}

export function checkUnit(path: string, v: unknown): void {
  if (v === undefined) return;
  expect(path, v, 'Number', typeof v === 'number');
  if ((v as number) < 0 || (v as number) > 1) throw new Malformed(`${path}: ${v} is not between 0 and 1`);
}

/** An optional integer in [min, max] (max omitted where AWS documents none). */
export function checkInt(path: string, v: unknown, min: number, max?: number): void {
  if (v === undefined) return;
  expect(path, v, 'Integer', typeof v === 'number' && Number.isInteger(v));
  if ((v as number) < min) throw new Malformed(`${path}: ${v} is not greater or equal to ${min}`);
  if (max !== undefined && (v as number) > max) throw new Malformed(`${path}: ${v} is not less or equal to ${max}`);
}

export function checkString(path: string, v: unknown, minLength = 0, maxLength?: number): void {
  expect(path, v, 'String', typeof v === 'string');
  const len = (v as string).length;
  if (len < minLength) throw new Malformed(`${path}: expected minLength: ${minLength}, actual: ${len}`);
  if (maxLength !== undefined && len > maxLength) throw new Malformed(`${path}: expected maxLength: ${maxLength}, actual: ${len}`);
}

export function checkArray(path: string, v: unknown, minItems: number, maxItems?: number): unknown[] {
  expect(path, v, 'JSONArray', Array.isArray(v));
  const n = (v as unknown[]).length;
  if (n < minItems) throw new Malformed(`${path}: expected minimum item count: ${minItems}, found: ${n}`);
  if (maxItems !== undefined && n > maxItems) throw new Malformed(`${path}: expected maximum item count: ${maxItems}, found: ${n}`);
  return v as unknown[];
}

export function checkStrings(path: string, v: unknown, maxItems?: number): void {
  if (v === undefined) return;
  checkArray(path, v, 0, maxItems).forEach((s, i) => {
    expect(`${path}/${i}`, s, 'String', typeof s === 'string');
  });
}

export function blockText(block: unknown): string {
  return isObject(block) && typeof block.text === 'string' ? block.text : '';
}

export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  return Array.isArray(content) ? content.map(blockText).join('') : '';
}

/** Text of the last user turn in a Messages-API, Nova or Converse body. */
export function lastUserText(modelInput: unknown): string {
  if (!isObject(modelInput) || !Array.isArray(modelInput.messages)) return '';
  const users = modelInput.messages.filter((m) => isObject(m) && m.role === 'user');
  return users.length ? contentText((users[users.length - 1] as Json).content) : '';
}

/** Characters of system + message text in a Messages-API, Nova or Converse body (images etc. are not counted). */
export function messagesInputChars(body: Json): number {
  let chars = 0;
  if (typeof body.system === 'string') chars += body.system.length;
  else if (Array.isArray(body.system)) chars += body.system.map(blockText).join('').length;
  for (const m of body.messages as Json[]) chars += contentText(m.content).length;
  return chars;
}

/** Converse's turn rules, in its wording; Nova's InvokeModel enforces the same (its schema is Converse's). */
export function checkTurns(messages: Json[]): void {
  if (messages[0].role !== 'user') {
    throw new Error('A conversation must start with a user message. Try again with a conversation that starts with a user message.');
  }
  if (messages.some((m, i) => i > 0 && m.role === messages[i - 1].role)) {
    throw new Error('A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.');
  }
}

const lastMatch = (text: string, re: RegExp) => [...text.matchAll(re)].pop()?.[1];

/**
 * The last user turn of a raw completion prompt: Llama 3 and Llama 4 headers, or Mistral/Llama 2
 * [INST] blocks; a prompt with no chat template is taken whole, minus any special tokens.
 */
export function promptUserText(prompt: string): string {
  const turn =
    lastMatch(prompt, /<\|start_header_id\|>user<\|end_header_id\|>([\s\S]*?)(?:<\|eot_id\|>|$)/g) ??
    lastMatch(prompt, /<\|header_start\|>user<\|header_end\|>([\s\S]*?)(?:<\|eot\|>|$)/g) ??
    lastMatch(prompt, /\[INST\]([\s\S]*?)(?:\[\/INST\]|$)/g)?.replace(/<<SYS>>[\s\S]*?<<\/SYS>>/, '');
  return (turn ?? prompt).replace(/<\|[a-z_]+\|>|<\/?s>/g, ' ');
}

export interface Answer {
  text: string;
  /** The answer was cut at maxTokens*4 characters: the record reports max_tokens / length. */
  truncated: boolean;
}

/**
 * The answer every chat family gives: a hash of the whole canonicalised modelInput plus the start of
 * the user's text, cut to maxTokens*4 characters when longer.
 */
export function chatAnswer(modelInput: unknown, userText: string, maxTokens: number | undefined): Answer {
  const echo = userText.replace(/\s+/g, ' ').trim().slice(0, 60);
  const full = `Emulated answer ${sha256Hex(canonicalJson(modelInput)).slice(0, 16)} to: ${echo}`;
  const truncated = maxTokens !== undefined && maxTokens > 0 && full.length > maxTokens * 4;
  return { text: truncated ? full.slice(0, maxTokens * 4) : full, truncated };
}

/** A truncated answer used exactly its budget; otherwise its length in estimated tokens. */
export const answerTokens = (a: Answer, maxTokens: number | undefined) => (a.truncated ? (maxTokens as number) : tokens(a.text.length));

export const numberOr = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** A vector of uniform values in [-1, 1) from sfc32 seeded by `seed`, scaled to unit length when asked. */
export function seededVector(seed: string, dims: number, normalize: boolean): number[] {
  const next = seededRandom(seed);
  const raw = Array.from({ length: dims }, () => next() * 2 - 1);
  const scale = normalize ? 1 / Math.hypot(...raw) : 1;
  // Rounded so an output line stays compact; the norm error this adds is ~1e-8.
  return raw.map((x) => Math.round(x * scale * 1e8) / 1e8);
}

/** A deterministic UUID-shaped id, as Cohere returns. */
export function uuidFrom(seed: string): string {
  const h = sha256Hex(seed);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
