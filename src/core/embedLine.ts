import * as JSON_BYTES from './jsonBytes';
import type { RecordResult } from './outputLine';

// Module constants, read once: through tsx (esbuild's CommonJS interop) every use of an imported
// binding is a getter call, and these loops compare each byte with them (~12% of post-embed's CPU).
const { BACKSLASH, COLON, COMMA, LBRACE, LBRACKET, QUOTE, RBRACE, RBRACKET } = JSON_BYTES;

/**
 * Fast path for the output lines of embedding jobs (~28 KB a line for Titan V2 at 1024-d, most of
 * it numbers): reads recordId, the float vector straight into a Float32Array and the token count
 * from the line's bytes, without JSON.parse of the line nor a JS number[] in between.
 *
 * It accepts only a strict subset of JSON it fully checks, and returns undefined for anything else
 * (error records, other shapes, escapes in keys, duplicate keys, invalid JSON, …); the caller then
 * uses the full parse. Whatever it accepts gives bit-identical results to `parseOutputLine`:
 * numbers are converted by correctly rounded decimal → float64 (as JSON.parse does), then rounded
 * to float32 (as Float32Array.from does).
 */
export interface EmbedLineShape {
  /** modelOutput key holding the vector. */
  vectorKey: string;
  /** true: the key holds one vector per input text (`[[…]]`), and the record's vector is the first. */
  nested: boolean;
  /** modelOutput key with the input token count (`optionalNumber` semantics); absent: no counts. */
  inputTokensKey?: string;
  /** The value of `outputTokens` on success (Titan reports 0; Cohere reports none). */
  outputTokens?: number;
  /**
   * A key whose value is expected to be `{"float": <the vector, byte for byte>}` (Titan V2 prints
   * the vector twice); such a copy is checked by one byte comparison instead of being parsed.
   */
  floatCopyKey?: string;
}

const WS_SPACE = 0x20;
const WS_TAB = 0x09;
const WS_LF = 0x0a;
const WS_CR = 0x0d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

/** 10^0 … 10^22, every one exactly representable as a float64. */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/**
 * Vectors are parsed straight into shared 4 MiB slabs and handed out as views of them, rather than
 * one ArrayBuffer each (50,000 separate 4 KB backing stores a shard cost malloc and GC time) or a
 * scratch copy. A slab is freed when its last view is. `slabUsed` advances only when a vector is
 * accepted, so a declined line's numbers are simply overwritten.
 */
const SLAB_FLOATS = 1 << 20;
let slab: Float32Array = new Float32Array(SLAB_FLOATS);
let slabUsed = 0;

/** Moves the vector being parsed (its first `n` values at `slabUsed`) to a fresh, big enough slab. */
function growSlab(n: number): Float32Array {
  const next = new Float32Array(Math.max(SLAB_FLOATS, 2 * n));
  next.set(slab.subarray(slabUsed, slabUsed + n));
  slab = next;
  slabUsed = 0;
  return next;
}

function skipWs(b: Buffer, i: number): number {
  for (;;) {
    const c = b[i];
    if (c === WS_SPACE || c === WS_LF || c === WS_CR || c === WS_TAB) i++;
    else return i;
  }
}

/** End (exclusive) of a string without escapes or control characters starting at its quote, or -1. */
function simpleStringEnd(b: Buffer, i: number): number {
  if (b[i] !== QUOTE) return -1;
  for (let j = i + 1; j < b.length; j++) {
    const c = b[j];
    if (c === QUOTE) return j + 1;
    if (c === BACKSLASH || c < 0x20) return -1;
  }
  return -1;
}

/** Whether b[start..end) equals the ASCII text `key` (keys are short). */
function bytesEqual(b: Buffer, start: number, end: number, key: string): boolean {
  if (end - start !== key.length) return false;
  for (let k = 0; k < key.length; k++) if (b[start + k] !== key.charCodeAt(k)) return false;
  return true;
}

/**
 * End (exclusive) of the JSON value at i, checked by JSON.parse of its bytes, or -1. Used for the
 * small values around the vector (modelInput, ids, texts); a string's quotes and escapes are
 * honoured when finding the end, and UTF-8 continuation bytes (≥ 0x80) never match ASCII syntax.
 */
function skipValue(b: Buffer, i: number): { end: number; value: unknown } | undefined {
  const start = i;
  const c0 = b[i];
  let end: number;
  if (c0 === QUOTE || c0 === LBRACE || c0 === LBRACKET) {
    let depth = 0;
    let inString = false;
    end = -1;
    for (let j = i; j < b.length; j++) {
      const c = b[j];
      if (inString) {
        if (c === BACKSLASH) j++;
        else if (c === QUOTE) {
          inString = false;
          if (depth === 0) {
            end = j + 1;
            break;
          }
        }
      } else if (c === QUOTE) inString = true;
      else if (c === LBRACE || c === LBRACKET) depth++;
      else if (c === RBRACE || c === RBRACKET) {
        if (--depth === 0) {
          end = j + 1;
          break;
        }
      }
    }
    if (end < 0) return undefined;
  } else {
    let j = i;
    for (; j < b.length; j++) {
      const c = b[j];
      if (c === COMMA || c === RBRACE || c === RBRACKET || c === WS_SPACE || c === WS_LF || c === WS_CR || c === WS_TAB) break;
    }
    if (j === i) return undefined;
    end = j;
  }
  try {
    return { end, value: JSON.parse(b.toString('utf8', start, end)) };
  } catch {
    return undefined;
  }
}

/**
 * Parses the JSON array of numbers at b[i] (`[`) into `slab` from `slabUsed` on; returns the index
 * after `]` and sets `count`, or -1 when it is not a (possibly empty) flat array of JSON numbers.
 */
let count = 0;
function scanFloatArray(b: Buffer, i: number): number {
  if (b[i] !== LBRACKET) return -1;
  let out: Float32Array = slab;
  let base = slabUsed;
  let n = 0;
  let j = skipWs(b, i + 1);
  if (b[j] === RBRACKET) {
    count = 0;
    return j + 1;
  }
  for (;;) {
    // One JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    const start = j;
    let c = b[j];
    const negative = c === MINUS;
    if (negative) c = b[++j];
    let mantissa = 0;
    let digits = 0; // significant digits in mantissa (leading zeros excluded)
    let scale = 0; // fraction digits taken into mantissa
    if (c === ZERO) c = b[++j];
    else if (c > ZERO && c <= NINE) {
      const from = j;
      do {
        mantissa = mantissa * 10 + (c - ZERO);
        c = b[++j];
      } while (c >= ZERO && c <= NINE);
      digits = j - from;
    } else return -1;
    if (c === DOT) {
      const fracStart = ++j;
      c = b[j];
      if (!(c >= ZERO && c <= NINE)) return -1;
      if (mantissa === 0) {
        while (c === ZERO) c = b[++j];
      }
      const sigStart = j;
      while (c >= ZERO && c <= NINE) {
        mantissa = mantissa * 10 + (c - ZERO);
        c = b[++j];
      }
      digits += j - sigStart;
      scale = j - fracStart;
    }
    let exponent = 0;
    if (c === LOWER_E || c === UPPER_E) {
      c = b[++j];
      let expNegative = false;
      if (c === PLUS || c === MINUS) {
        expNegative = c === MINUS;
        c = b[++j];
      }
      if (!(c >= ZERO && c <= NINE)) return -1;
      do {
        if (exponent < 100_000) exponent = exponent * 10 + (c - ZERO);
        c = b[++j];
      } while (c >= ZERO && c <= NINE);
      if (expNegative) exponent = -exponent;
    }
    let value: number;
    const e = exponent - scale;
    // Clinger's fast path: an exact integer mantissa (≤ 15 digits < 2^53) times or divided by an
    // exact power of ten is one correctly rounded IEEE operation, i.e. the correctly rounded value
    // JSON.parse produces. Anything else goes through Number(), which is correctly rounded too.
    if (digits <= 15 && e >= -22 && e <= 22) value = e < 0 ? mantissa / POW10[-e] : mantissa * POW10[e];
    else value = Number(b.toString('latin1', negative ? start + 1 : start, j));
    if (base + n === out.length) {
      out = growSlab(n);
      base = 0;
    }
    out[base + n++] = negative ? -value : value;
    if (c === COMMA) {
      c = b[++j];
      if (c === WS_SPACE || c === WS_LF || c === WS_CR || c === WS_TAB) j = skipWs(b, j);
      continue;
    }
    if (c === WS_SPACE || c === WS_LF || c === WS_CR || c === WS_TAB) {
      j = skipWs(b, j);
      c = b[j];
      if (c === COMMA) {
        j = skipWs(b, j + 1);
        continue;
      }
    }
    if (c === RBRACKET) {
      count = n;
      return j + 1;
    }
    return -1;
  }
}

/**
 * The record of one output line of an embedding job, or undefined to fall back to the full parse.
 * `line` is the line's UTF-8 bytes.
 */
export function parseEmbedLine(line: Buffer, shape: EmbedLineShape): RecordResult | undefined {
  let i = skipWs(line, 0);
  if (line[i] !== LBRACE) return undefined;
  let recordId: string | undefined;
  let out: { embedding: Float32Array; inputTokens: number | undefined } | undefined;
  let sawInput = false;
  i = skipWs(line, i + 1);
  for (;;) {
    const keyEnd = simpleStringEnd(line, i);
    if (keyEnd < 0) return undefined;
    const keyStart = i + 1;
    i = skipWs(line, keyEnd);
    if (line[i] !== COLON) return undefined;
    i = skipWs(line, i + 1);
    if (bytesEqual(line, keyStart, keyEnd - 1, 'recordId')) {
      if (recordId !== undefined) return undefined;
      const end = simpleStringEnd(line, i);
      if (end < 0) return undefined;
      recordId = line.toString('utf8', i + 1, end - 1);
      i = end;
    } else if (bytesEqual(line, keyStart, keyEnd - 1, 'modelInput')) {
      if (sawInput) return undefined;
      sawInput = true;
      const v = skipValue(line, i);
      if (!v) return undefined;
      i = v.end;
    } else if (bytesEqual(line, keyStart, keyEnd - 1, 'modelOutput')) {
      if (out) return undefined;
      const end = parseModelOutput(line, i, shape);
      if (end < 0) return undefined;
      out = lastOutput;
      i = end;
    } else {
      // `error` (a failed record) or anything unexpected.
      return undefined;
    }
    i = skipWs(line, i);
    if (line[i] === COMMA) {
      i = skipWs(line, i + 1);
      continue;
    }
    if (line[i] !== RBRACE) return undefined;
    i = skipWs(line, i + 1);
    if (i !== line.length) return undefined;
    break;
  }
  if (recordId === undefined || !out) return undefined;
  return {
    recordId,
    text: undefined,
    embedding: out.embedding,
    stopReason: undefined,
    inputTokens: out.inputTokens,
    outputTokens: shape.outputTokens,
  };
}

let lastOutput: { embedding: Float32Array; inputTokens: number | undefined } | undefined;

/** Parses the modelOutput object at i into `lastOutput`; returns the index after it or -1. */
function parseModelOutput(b: Buffer, i: number, shape: EmbedLineShape): number {
  if (b[i] !== LBRACE) return -1;
  let embedding: Float32Array | undefined;
  let vectorStart = -1;
  let vectorEnd = -1;
  let tokens: unknown;
  let sawTokens = false;
  let sawCopy = false;
  i = skipWs(b, i + 1);
  if (b[i] === RBRACE) return -1;
  for (;;) {
    const keyEnd = simpleStringEnd(b, i);
    if (keyEnd < 0) return -1;
    const keyStart = i + 1;
    i = skipWs(b, keyEnd);
    if (b[i] !== COLON) return -1;
    i = skipWs(b, i + 1);
    if (bytesEqual(b, keyStart, keyEnd - 1, shape.vectorKey)) {
      if (embedding) return -1;
      let j = i;
      if (shape.nested) {
        if (b[j] !== LBRACKET) return -1;
        j = skipWs(b, j + 1);
      }
      vectorStart = j;
      j = scanFloatArray(b, j);
      // An empty vector is a record error in the adapters; the full parse reports it.
      if (j < 0 || count === 0) return -1;
      vectorEnd = j;
      embedding = slab.subarray(slabUsed, slabUsed + count);
      slabUsed += count;
      if (shape.nested) {
        j = skipWs(b, j);
        // More than one vector (several texts in one record) is left to the full parse.
        if (b[j] !== RBRACKET) return -1;
        j++;
      }
      i = j;
    } else if (shape.inputTokensKey !== undefined && bytesEqual(b, keyStart, keyEnd - 1, shape.inputTokensKey)) {
      if (sawTokens) return -1;
      sawTokens = true;
      const v = skipValue(b, i);
      if (!v) return -1;
      tokens = v.value;
      i = v.end;
    } else {
      const isCopy = shape.floatCopyKey !== undefined && bytesEqual(b, keyStart, keyEnd - 1, shape.floatCopyKey);
      if (isCopy) {
        if (sawCopy) return -1;
        sawCopy = true;
      }
      const copyEnd = isCopy && embedding ? floatCopyEnd(b, i, vectorStart, vectorEnd) : -1;
      if (copyEnd >= 0) i = copyEnd;
      else {
        // Other keys do not affect the result, but the line must still be valid JSON and must
        // not repeat the vector key (checked above) for the results to match JSON.parse.
        const v = skipValue(b, i);
        if (!v) return -1;
        i = v.end;
      }
    }
    i = skipWs(b, i);
    if (b[i] === COMMA) {
      i = skipWs(b, i + 1);
      continue;
    }
    if (b[i] !== RBRACE) return -1;
    i++;
    break;
  }
  if (!embedding) return -1;
  lastOutput = { embedding, inputTokens: typeof tokens === 'number' && Number.isFinite(tokens) ? tokens : undefined };
  return i;
}

const FLOAT_KEY = Buffer.from('{"float":');

/** End of `{"float":<bytes identical to b[vs..ve)>}` at i, or -1. */
function floatCopyEnd(b: Buffer, i: number, vs: number, ve: number): number {
  const open = FLOAT_KEY.length;
  const len = ve - vs;
  if (i + open + len + 1 > b.length) return -1;
  if (b.compare(FLOAT_KEY, 0, open, i, i + open) !== 0) return -1;
  if (b.compare(b, vs, ve, i + open, i + open + len) !== 0) return -1;
  return b[i + open + len] === RBRACE ? i + open + len + 1 : -1;
}
