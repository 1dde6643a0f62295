/**
 * Top-level fields of a Bedrock output line, found in the line's UTF-8 bytes without parsing it.
 *
 * A text job's line is mostly `modelInput`, the echo of our own request (the whole prompt, ~2 KB on
 * SimpleCoT-like rows), while what the app needs is `recordId` and the ~0.5 KB `modelOutput`.
 * JSON.parse of the whole line (and decoding it to a string first) cost ~7 µs a line; locating the
 * fields and parsing only `modelOutput` costs ~2 µs.
 *
 * Values are delimited by their string and bracket structure: a string is skipped with
 * `Buffer.indexOf('"')` (memchr) and its escapes honoured, so the prompt's bytes are not visited one
 * by one. Skipped values are not otherwise validated; every value the caller uses is parsed by
 * JSON.parse. Anything outside a plain shape (an escaped key, a repeated key, a recordId with
 * escapes, unbalanced brackets, bytes after the closing brace) gives undefined, and the caller then
 * parses the whole line.
 */
import * as JSON_BYTES from './jsonBytes';

// Module constants, read once: through tsx (esbuild's CommonJS interop) every use of an imported
// binding is a getter call, and these loops compare bytes with them (post-text at N/2 took 44 s of
// CPU with the imports, 34 s with these copies).
const { BACKSLASH, COLON, COMMA, LBRACE, LBRACKET, QUOTE, RBRACE, RBRACKET } = JSON_BYTES;

export interface LineFields {
  /** The recordId string's value (it had no escapes), or undefined when the line has none or not a string. */
  recordId?: string;
  /** [start, end) of each field's value in the line, for the keys asked for. */
  spans: Map<string, [number, number]>;
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipWs(b: Uint8Array, i: number): number {
  while (i < b.length && isWs(b[i])) i++;
  return i;
}

/** Index after the closing quote of the string whose opening quote is at i, or -1. */
export function stringEnd(b: Buffer, i: number): number {
  for (let from = i + 1; ; ) {
    const q = b.indexOf(QUOTE, from);
    if (q < 0) return -1;
    // The quote is escaped when an odd number of backslashes precede it.
    let k = q - 1;
    while (k > i && b[k] === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** Index after the JSON value at i (string, object, array or a bare literal/number), or -1. */
export function valueEnd(b: Buffer, i: number): number {
  const c0 = b[i];
  if (c0 === QUOTE) return stringEnd(b, i);
  if (c0 !== LBRACE && c0 !== LBRACKET) {
    let j = i;
    while (j < b.length) {
      const c = b[j];
      if (c === COMMA || c === RBRACE || c === RBRACKET || isWs(c)) break;
      j++;
    }
    return j > i ? j : -1;
  }
  // Brackets of either kind must close in the order they opened.
  const stack: number[] = [];
  for (let j = i; j < b.length; ) {
    const c = b[j];
    if (c === QUOTE) {
      j = stringEnd(b, j);
      if (j < 0) return -1;
      continue;
    }
    if (c === LBRACE || c === LBRACKET) stack.push(c === LBRACE ? RBRACE : RBRACKET);
    else if (c === RBRACE || c === RBRACKET) {
      if (stack.pop() !== c) return -1;
      if (stack.length === 0) return j + 1;
    }
    j++;
  }
  return -1;
}

/** Whether b[start..end) holds `byte` (keys and ids are short). */
function hasByte(b: Buffer, start: number, end: number, byte: number): boolean {
  for (let k = start; k < end; k++) if (b[k] === byte) return true;
  return false;
}

/**
 * The top-level `recordId` and the value spans of `keys` in a one-object JSON line; undefined when
 * the line is not in the plain shape described above (the caller falls back to the full parse).
 */
export function lineFields(b: Buffer, keys: readonly string[]): LineFields | undefined {
  const spans = new Map<string, [number, number]>();
  let recordId: string | undefined;
  let sawRecordId = false;
  let i = skipWs(b, 0);
  if (b[i] !== LBRACE) return undefined;
  i = skipWs(b, i + 1);
  if (b[i] === RBRACE) return undefined;
  // Keys seen, to refuse a repeated one (JSON.parse keeps the last; the full parse decides).
  const seen = new Set<string>();
  for (;;) {
    if (b[i] !== QUOTE) return undefined;
    const keyEnd = stringEnd(b, i);
    if (keyEnd < 0) return undefined;
    const keyStart = i + 1;
    if (hasByte(b, keyStart, keyEnd - 1, BACKSLASH)) return undefined;
    // latin1 maps bytes one to one, so distinct keys stay distinct; the ones asked for are ASCII.
    const key = b.toString('latin1', keyStart, keyEnd - 1);
    if (seen.has(key)) return undefined;
    seen.add(key);
    i = skipWs(b, keyEnd);
    if (b[i] !== COLON) return undefined;
    i = skipWs(b, i + 1);
    const end = valueEnd(b, i);
    if (end < 0) return undefined;
    if (key === 'recordId') {
      sawRecordId = true;
      // Only a string without escapes is decoded here; anything else is left to the full parse.
      if (b[i] !== QUOTE) return undefined;
      if (hasByte(b, i + 1, end - 1, BACKSLASH)) return undefined;
      recordId = b.toString('utf8', i + 1, end - 1);
    } else if (keys.includes(key)) spans.set(key, [i, end]);
    i = skipWs(b, end);
    if (b[i] === COMMA) {
      i = skipWs(b, i + 1);
      continue;
    }
    if (b[i] !== RBRACE) return undefined;
    if (skipWs(b, i + 1) !== b.length) return undefined;
    break;
  }
  if (!sawRecordId) return undefined;
  return { recordId, spans };
}
