/**
 * Whether one record can be sent at all: a prompt over the model's input limit, or a JSONL line
 * over Bedrock's input-file limit, would only come back as a record error (or fail the run) after
 * the whole pipeline was paid for, so such a record is kept out of the job and written as an error
 * row instead. Pure: the caller passes the limit (from the batch catalog) and the token counter.
 */

export const RECORD_TOO_LARGE = 'RECORD_TOO_LARGE';

export interface Rejection {
  code: string;
  message: string;
}

export interface InputLimit {
  /** The model the limit is for, as the message names it. */
  modelId: string;
  maxTokens?: number;
  maxChars?: number;
}

export interface LimitCounter {
  kind: string;
  exact: boolean;
  count(text: string): number;
}

/**
 * An approximate count may overestimate: a record is refused only when its estimate passes the
 * limit by more than this share (APPROX_BOUNDS.latinPrompt, the approximation's measured per-prompt
 * error on Latin-script text), so a record Bedrock would take is not dropped on a guess. Records
 * between the limit and this margin are sent, and Bedrock's own check decides, as before.
 */
export const APPROX_MARGIN = 0.35;

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * Whether a JSONL line of `lineBytes` could hold a prompt of more than `maxTokens` tokens. Every
 * counter in src/tokens spends at most one token per UTF-8 byte — byte-level BPE (Llama 3, Claude,
 * Tekken) and SentencePiece with byte fallback cover at least a byte a token, and the character
 * approximation charges at most 1 per ASCII character, 1.1 per 3-byte CJK character, 2 per 4-byte
 * pair — except that SentencePiece (Mistral v1-v3) adds a prefix token to each piece the bounded
 * count cuts text into (one per 1,000 characters at most: '1' × 5,000 counts 5,005). A line holds
 * more than its prompt, so nearly every record is decided by this comparison, without counting.
 */
export function mayExceedTokens(lineBytes: number, maxTokens: number): boolean {
  return lineBytes + Math.ceil(lineBytes / 1000) + 1 > maxTokens;
}

/**
 * Whether checkInputLimit could reject a prompt of `promptLength` UTF-16 units in a line of
 * `lineBytes`: when not, the caller need not build the prompt string at all.
 */
export function limitNeedsPrompt(promptLength: number, lineBytes: number, limit: InputLimit): boolean {
  return (limit.maxChars !== undefined && promptLength > limit.maxChars) || (limit.maxTokens !== undefined && mayExceedTokens(lineBytes, limit.maxTokens));
}

/**
 * The reason `prompt` cannot be sent to `limit.modelId`, or undefined when it fits. `lineBytes` is
 * the UTF-8 size of the record's whole JSONL line (prompt and system prompt; `extraTokens` counts
 * the latter): only lines that mayExceedTokens are counted.
 */
export function checkInputLimit(prompt: string, lineBytes: number, limit: InputLimit, counter: LimitCounter, extraTokens = 0): Rejection | undefined {
  // String length (UTF-16 units) is never below the character count, so it only needs counting past the limit.
  if (limit.maxChars !== undefined && prompt.length > limit.maxChars) {
    const chars = countCodePoints(prompt);
    if (chars > limit.maxChars) {
      return { code: RECORD_TOO_LARGE, message: `prompt is ${fmt(chars)} characters, over the ${fmt(limit.maxChars)}-character input limit of ${limit.modelId}` };
    }
  }
  if (limit.maxTokens === undefined || !mayExceedTokens(lineBytes, limit.maxTokens)) return undefined;
  const tokens = counter.count(prompt) + extraTokens;
  const allowed = counter.exact ? limit.maxTokens : limit.maxTokens * (1 + APPROX_MARGIN);
  if (tokens <= allowed) return undefined;
  const how = counter.exact ? `counted with ${counter.kind}` : `estimated with ${counter.kind}`;
  return { code: RECORD_TOO_LARGE, message: `prompt is ~${fmt(tokens)} tokens (${how}), over the ${fmt(limit.maxTokens)}-token input limit of ${limit.modelId}` };
}

/** A record whose JSONL line alone is over Bedrock's input-file limit. */
export function fileLimitRejection(bytes: number, maxFileBytes: number): Rejection {
  const size = maxFileBytes % 1_000_000_000 === 0 ? `${maxFileBytes / 1_000_000_000} GB` : `${fmt(maxFileBytes)}-byte`;
  return { code: RECORD_TOO_LARGE, message: `record is ${fmt(bytes)} bytes, over the ${size} limit of a Bedrock input file` };
}

function countCodePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A high surrogate followed by a low one is one character.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}
