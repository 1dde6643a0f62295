/**
 * CSV input must be UTF-8. A byte sequence that is not (a Latin-1 `é`, a character cut short) fails the read
 * with the file, line and byte offset, instead of reaching prompts and output as U+FFFD. The check is
 * node's `isUtf8` (simdutf, tens of GB/s) on the bytes the parsers decode anyway; where the bad byte is,
 * is worked out only once the check has failed.
 */
import { isUtf8 } from 'node:buffer';
import { CsvFormatError } from './csvError';

/** Where a buffer's first byte is in the whole input, for messages. */
export interface InputPosition {
  /** The input's name, e.g. its S3 URI. */
  source: string;
  /** 1-based line at the first byte. */
  line: number;
  /** Offset of the first byte in the whole file. */
  byteOffset: number;
}

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);

/**
 * Throws a CsvFormatError naming the first invalid sequence when buf[from, to) is not UTF-8; `at` is buf[0]'s
 * position; `before`, UTF-8 bytes just before buf[0], only shows what precedes the bad byte in the message.
 */
export function checkUtf8(buf: Buffer, from: number, to: number, at: InputPosition, before: Buffer = EMPTY): void {
  if (isUtf8(buf.subarray(from, to))) return;
  const bad = firstInvalidUtf8(buf, from, to);
  throw invalidUtf8Error(buf, bad < 0 ? from : bad, at, before);
}

/**
 * Index of the first byte of buf[from, to) that does not begin a well-formed UTF-8 sequence ending within
 * the range (no overlong forms, surrogates or code points past U+10FFFF, as TextDecoder rules), or -1.
 */
export function firstInvalidUtf8(buf: Uint8Array, from = 0, to = buf.length): number {
  let i = from;
  while (i < to) {
    const b = buf[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    // Continuation bytes after the lead byte, and the range the first of them must be in.
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) n = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      n = 2;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      n = 3;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    } else return i;
    if (i + n >= to) return i;
    for (let k = 1; k <= n; k++) {
      const c = buf[i + k];
      if (c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return -1;
}

/** Line breaks in buf[from, to) as an editor counts them: `\r\n`, `\n` and a lone `\r` are one each. */
export function countLineBreaks(buf: Buffer, from: number, to: number): number {
  return countOf(buf, LF, from, to) + countOf(buf, CR, from, to) - countOf(buf, '\r\n', from, to - 1);
}

function countOf(buf: Buffer, what: number | string, from: number, to: number): number {
  let n = 0;
  for (let i = buf.indexOf(what, from); i >= 0 && i < to; i = buf.indexOf(what, i + 1)) n++;
  return n;
}

/** The message names the line, the byte offset, the bad bytes and the text just before them on their line. */
function invalidUtf8Error(buf: Buffer, bad: number, at: InputPosition, before: Buffer): CsvFormatError {
  const line = at.line + countLineBreaks(buf, 0, bad);
  // `before` joins on only where buf's own bytes run short (both end on a character boundary there).
  const context = textBefore(bad >= CONTEXT_BYTES ? buf.subarray(bad - CONTEXT_BYTES, bad) : Buffer.concat([before, buf.subarray(0, bad)]));
  // The bad byte and the continuation bytes after it (a character cut short, or not UTF-8 at all).
  let end = bad + 1;
  while (end < buf.length && end < bad + 4 && (buf[end] & 0xc0) === 0x80) end++;
  const bytes = [...buf.subarray(bad, end)].map((b) => `0x${b.toString(16).toUpperCase().padStart(2, '0')}`);
  return new CsvFormatError(
    `${at.source}: invalid UTF-8 at line ${line}, byte offset ${at.byteOffset + bad}: ${bytes.join(' ')} after ` +
      `${JSON.stringify(context)}; the file must be UTF-8 ` +
      '(convert it first, e.g. `iconv -f latin1 -t utf-8`)',
  );
}

const CONTEXT_BYTES = 40;

/** The last line of `bytes` (valid UTF-8), at most CONTEXT_BYTES of it, `…` marking a cut. */
function textBefore(bytes: Buffer): string {
  const lineStart = Math.max(bytes.lastIndexOf(LF), bytes.lastIndexOf(CR)) + 1;
  let start = Math.max(lineStart, bytes.length - CONTEXT_BYTES);
  // Start on a character boundary: skip continuation bytes.
  while (start < bytes.length && (bytes[start] & 0xc0) === 0x80) start++;
  return (start > lineStart ? '…' : '') + bytes.toString('utf8', start);
}

/**
 * Passes a byte stream through, checking it is UTF-8 on the way; fails at the first invalid sequence,
 * naming it by the line and byte offset from `start`. For the csv-parse fallback of the fast parser,
 * which decodes with replacement characters.
 */
export async function* checkingUtf8(chunks: AsyncIterable<Buffer>, start: InputPosition): AsyncGenerator<Buffer> {
  const at = { ...start };
  let carry: Buffer = EMPTY;
  /** The last checked bytes, for the message. */
  let tail: Buffer = EMPTY;
  for await (const chunk of chunks) {
    const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    // A character cut at the chunk's end is checked with the rest of it; a `\r` waits to see if `\n` follows.
    let end = wholeCharactersEnd(buf);
    if (end > 0 && buf[end - 1] === CR) end--;
    checkUtf8(buf, 0, end, at, tail);
    at.line += countLineBreaks(buf, 0, end);
    at.byteOffset += end;
    // Copies: a few bytes each, not the chunk's memory.
    tail = Buffer.from(end >= CONTEXT_BYTES ? buf.subarray(end - CONTEXT_BYTES, end) : Buffer.concat([tail, buf.subarray(0, end)]).subarray(-CONTEXT_BYTES));
    carry = Buffer.from(buf.subarray(end));
    yield chunk;
  }
  if (carry.length) checkUtf8(carry, 0, carry.length, at, tail);
}

/** The index after the last whole UTF-8 character of buf (a lead byte near the end without all its bytes starts the rest). */
function wholeCharactersEnd(buf: Buffer): number {
  const len = buf.length;
  for (let i = len - 1; i >= 0 && i >= len - 3; i--) {
    const b = buf[i];
    if (b < 0x80) return len;
    if (b >= 0xc0) {
      const size = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return len - i < size ? i : len;
    }
  }
  return len;
}
