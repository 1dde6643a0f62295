/**
 * A fast CSV record parser that yields exactly the rows csv-parse 7 yields with `csvParserOptions`
 * (bom, relax_column_count false, skip_empty_lines), for every input csv-parse accepts, and hands anything
 * it is not sure about back to csv-parse ("fallback") instead of guessing.
 *
 * How it works: bytes are cut after the last byte that can end a record (`\n`, or `\r` for bare-`\r`
 * files), checked to be UTF-8 (invalid UTF-8 is a CsvFormatError naming the line and byte offset, see
 * utf8Check.ts: never U+FFFD in a prompt) and decoded to a string at once (the cut is an ASCII byte, so
 * no UTF-8 character is split, and since fields end at ASCII bytes, slicing the decoded string gives the
 * same text as csv-parse's decoding of each field's bytes). Records are then found with String.indexOf for
 * `"`, `,`, `\n` and `\r` (positions cached, so each byte is looked at about once); unquoted fields are
 * sliced as is, quoted fields are sliced between the quotes and `""` is replaced only when present. The
 * bytes after the last complete record are carried over to the next chunk.
 *
 * What it mirrors (see also csvSplit.ts): the record delimiter is fixed by the first CR/LF outside quotes
 * (`\r\n`, else `\n`, else `\r`) and from then on only that sequence ends a record; other CR/LF bytes
 * outside quotes are field data. A record with nothing between two delimiters is skipped. A UTF-8 BOM at
 * byte 0 of a whole file is dropped. csv-parse's line number is 1 + every `\r` and `\n` before the
 * position, a `\r\n` record delimiter counting once.
 *
 * Fallback: on a quote inside an unquoted field, text after a closing quote, an unclosed quote at the end,
 * a record with another field count, a UTF-16LE BOM, or a record over `maxRecordBytes` (re-scanning it
 * per chunk would be quadratic), the parser stops before yielding anything of that record and reports the
 * raw bytes from the end of the last record it yielded (the start of the input when it yielded none), with
 * csv-parse's line number there. `fastCsvRows` then feeds those bytes and the rest of the stream to
 * csv-parse (after a synthetic header, like a byte range of the file: `csvParseRange`), so rows and error
 * messages are csv-parse's own, naming the same lines as csv-parse on the whole file; those bytes are
 * checked to be UTF-8 on the way (csv-parse would decode them with replacement characters), except after a
 * UTF-16LE BOM, which csv-parse decodes as UTF-16LE.
 */
import { pipeline, Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { CsvFormatError } from './csvError';
import { checkingUtf8, checkUtf8 } from './utf8Check';

export { CsvFormatError };

/**
 * The csv-parse options every CSV read uses (whole files in csv.ts, byte ranges in csvSplit.ts): the two
 * must count records identically. Arrays, not objects: the template is compiled against column indexes
 * once (faster, see data-path.md).
 */
export const csvParserOptions = Object.freeze({ bom: true, relax_column_count: false, skip_empty_lines: true } as const);

export type CsvRecordDelimiter = '\n' | '\r\n' | '\r';

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

// Record delimiter in force: not known yet, `\n`, `\r\n`, bare `\r`.
const Discover = 0;
const Lf = 1;
const CrLf = 2;
const Cr = 3;
type Mode = 0 | 1 | 2 | 3;

const MODE_OF: Record<CsvRecordDelimiter, Mode> = { '\n': Lf, '\r\n': CrLf, '\r': Cr };
const RD_OF: Array<CsvRecordDelimiter | undefined> = [undefined, '\n', '\r\n', '\r'];

export interface FastCsvOptions {
  /** Fields every record must have; default: the first record's count (the header's, as in csv-parse). */
  columns?: number;
  /** The record delimiter (a byte range of a file whose delimiter is known); default: discovered. */
  recordDelimiter?: CsvRecordDelimiter;
  /** Input is a whole file: a BOM at byte 0 is skipped (UTF-8) or falls back (UTF-16LE). Default false. */
  bom?: boolean;
  /** csv-parse's line number at the first byte (default 1). */
  firstLine?: number;
  /** A record longer than this falls back (default 4 MiB). */
  maxRecordBytes?: number;
  /** Names the input in error messages (default `CSV input`). */
  source?: string;
  /** Offset of the first byte in the whole file, for error messages (a byte range of a file; default 0). */
  firstByte?: number;
}

export interface FastCsvFallback {
  /** Why the fast parser gave up (for logs and tests). */
  reason: string;
  /** Records yielded before (the header included when it was parsed). */
  records: number;
  /** The raw input from the end of the last yielded record (from the start when none); the stream's rest follows. */
  bytes: Buffer;
  /** csv-parse's line number at the first of those bytes. */
  line: number;
  /** Offset of the first of those bytes in the whole file (firstByte + bytes before). */
  byteOffset: number;
  /** The record delimiter in force there (undefined: none known, e.g. nothing yielded and none given). */
  recordDelimiter: CsvRecordDelimiter | undefined;
  /** The field count in force there (undefined: none known). */
  columns: number | undefined;
}

const EMPTY = Buffer.alloc(0);
const DEFAULT_SOURCE = 'CSV input';

/** Incremental parser: `push` chunks and `end()`; rows are appended to `out`; check `fallback` after each call. */
export class FastCsvParser {
  fallback: FastCsvFallback | null = null;
  private columns: number;
  private mode: Mode;
  private readonly givenRd: CsvRecordDelimiter | undefined;
  private readonly maxRecordBytes: number;
  /** Bytes from the end of the last yielded record (or the input start). */
  private pending: Buffer = EMPTY;
  private line: number;
  private records = 0;
  /** Bytes of BOM to skip at the start of `pending` (only while nothing was yielded). */
  private skip = 0;
  private bomState: 0 | 1 = 0; // 0: not looked at yet (whole file), 1: done
  private ended = false;
  private readonly source: string;
  private readonly firstByte: number;
  /** Bytes pushed so far: `pending` (and each push's buf) ends there. */
  private total = 0;

  constructor(opts: FastCsvOptions = {}) {
    this.columns = opts.columns ?? -1;
    this.givenRd = opts.recordDelimiter;
    this.mode = opts.recordDelimiter ? MODE_OF[opts.recordDelimiter] : Discover;
    this.line = opts.firstLine ?? 1;
    this.maxRecordBytes = opts.maxRecordBytes ?? 4 * 1024 * 1024;
    this.bomState = opts.bom ? 0 : 1;
    this.source = opts.source ?? DEFAULT_SOURCE;
    this.firstByte = opts.firstByte ?? 0;
  }

  /** Offset in the whole file of buf[0], for a buf that ends at the last byte pushed. */
  private fileOffsetOf(buf: Buffer): number {
    return this.firstByte + this.total - buf.length;
  }

  push(chunk: Uint8Array | string, out: string[][]): void {
    if (this.fallback || this.ended) return;
    const c = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (c.length === 0) return;
    this.total += c.length;
    const buf = this.pending.length ? Buffer.concat([this.pending, c]) : c;
    if (this.bomState === 0) {
      // csv-parse looks for a BOM once it has 3 bytes (at the end it does not look at all).
      if (buf.length < 3) {
        this.pending = buf;
        return;
      }
      this.bomState = 1;
      if (buf[0] === 0xff && buf[1] === 0xfe) {
        this.giveUp('UTF-16LE byte order mark', buf, 0, this.line);
        return;
      }
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) this.skip = 3;
    }
    // Only bytes up to the last possible record end are parsed now; the rest waits for more data.
    let cut: number;
    const mode = this.mode;
    if (mode === Lf || mode === CrLf) cut = c.lastIndexOf(LF);
    else if (mode === Cr) cut = c.lastIndexOf(CR);
    else cut = Math.max(c.lastIndexOf(LF), c.lastIndexOf(CR));
    if (cut < 0) {
      this.pending = buf;
      if (buf.length > this.maxRecordBytes) this.giveUp(`a record over ${this.maxRecordBytes} bytes`, buf, 0, this.line);
      return;
    }
    cut += buf.length - c.length + 1;
    this.run(buf, cut, false, out);
  }

  end(out: string[][]): void {
    if (this.fallback || this.ended) return;
    this.ended = true;
    const buf = this.pending;
    if (this.bomState === 0) {
      this.bomState = 1;
      // Under 3 bytes: csv-parse does not look for a BOM; a UTF-16LE one would still be odd: let it decide.
      if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) {
        this.giveUp('UTF-16LE byte order mark', buf, 0, this.line);
        return;
      }
    }
    this.run(buf, buf.length, true, out);
    this.pending = EMPTY;
  }

  private giveUp(reason: string, buf: Buffer, from: number, line: number): void {
    this.fallback = {
      reason,
      records: this.records,
      bytes: buf.subarray(from),
      line,
      byteOffset: this.fileOffsetOf(buf) + from,
      recordDelimiter: this.records === 0 ? this.givenRd : RD_OF[this.mode],
      columns: this.columns >= 0 ? this.columns : undefined,
    };
    this.pending = EMPTY;
  }

  /** Parses buf[skip, cut); keeps the bytes after the last complete record. */
  private run(buf: Buffer, cut: number, final: boolean, out: string[][]): void {
    const skip = this.records === 0 ? this.skip : 0;
    // buf starts where the last record ended: this.line and fileOffsetOf(buf) are its position.
    checkUtf8(buf, skip, cut, { source: this.source, line: this.line, byteOffset: this.fileOffsetOf(buf) });
    const s = buf.toString('utf8', skip, cut);
    const done = this.parse(s, final, out);
    if (final && !this.fallback) return;
    const from = this.byteOffset(s, done, skip, cut);
    if (this.fallback) {
      // Rows up to `done` were kept: csv-parse restarts from there.
      this.fallback.bytes = buf.subarray(from);
      this.fallback.byteOffset = this.fileOffsetOf(buf) + from;
      return;
    }
    this.pending = from === 0 ? buf : buf.subarray(from);
    if (this.pending.length > this.maxRecordBytes) {
      this.giveUp(`a record over ${this.maxRecordBytes} bytes`, this.pending, 0, this.line);
    } else if (this.pending.length < 4096 && this.pending.buffer.byteLength > 65536) {
      // Do not keep a whole chunk's memory alive for a short tail.
      this.pending = Buffer.from(this.pending);
    }
  }

  /**
   * Byte offset in buf of index i of s = buf.toString('utf8', skip, cut) (i is just after a record
   * delimiter, or 0). Exact: the bytes were checked to be UTF-8, so s re-encodes to them.
   */
  private byteOffset(s: string, i: number, skip: number, cut: number): number {
    if (i === 0) return this.records === 0 ? 0 : skip;
    if (s.length === cut - skip) return skip + i; // one byte per UTF-16 unit
    return cut - Buffer.byteLength(s.slice(i), 'utf8');
  }

  /**
   * Parses the records of s; appends complete ones to out, commits state after each; returns the index
   * after the last committed record. Sets this.fallback (line there) on anything it does not handle.
   */
  private parse(s: string, final: boolean, out: string[][]): number {
    let len = s.length;
    let pos = 0;
    let lines = this.line;
    let mode: Mode = this.mode;
    let columns = this.columns;
    let commit = 0;
    let records = this.records;
    // this.line and this.records are those at `commit` (the bytes are set by run()).
    const fail = (reason: string): number => {
      this.giveUp(reason, EMPTY, 0, this.line);
      return commit;
    };
    if (mode === Discover) {
      // csv-parse's discovery: the first CR/LF outside quotes. In input csv-parse accepts, toggling on every
      // quote gives its quoting state; anything else fails the strict parse below before reaching that break.
      let inQuote = false;
      let i = 0;
      for (; i < len; i++) {
        const ch = s.charCodeAt(i);
        if (ch === QUOTE) inQuote = !inQuote;
        else if (!inQuote && (ch === LF || ch === CR)) break;
      }
      if (i < len) {
        if (s.charCodeAt(i) === LF) mode = Lf;
        else if (i + 1 < len) mode = s.charCodeAt(i + 1) === LF ? CrLf : Cr;
        else if (final) mode = Cr;
        else return 0; // a `\r` as the last byte so far: the next byte decides
      } else if (!final) {
        return 0;
      } else {
        mode = Lf; // no unquoted line break at all: one record up to the end, if any
      }
    }
    // Cut after a `\r` while discovering: in a `\r\n` file that `\r` needs the next byte, so it waits (an
    // index found at the new `len` reads as "none").
    if (!final && mode === CrLf && s.charCodeAt(len - 1) === CR) len--;
    let nc = -1; // next `,` at or after pos (len if none); -1: not looked up
    let nq = -1; // next `"`
    let nl = s.indexOf('\n');
    if (nl < 0) nl = len;
    let ncr = s.indexOf('\r');
    if (ncr < 0) ncr = len;
    recLoop: for (;;) {
      if (pos >= len) break;
      const c0 = s.charCodeAt(pos);
      // An empty line (nothing before the delimiter) is skipped.
      if (mode === Lf) {
        if (c0 === LF) {
          lines++;
          pos++;
          nl = s.indexOf('\n', pos);
          if (nl < 0) nl = len;
          continue;
        }
      } else if (mode === CrLf) {
        if (c0 === CR && s.charCodeAt(pos + 1) === LF) {
          lines++;
          pos += 2;
          nl = s.indexOf('\n', pos);
          if (nl < 0) nl = len;
          ncr = s.indexOf('\r', pos);
          if (ncr < 0) ncr = len;
          continue;
        }
      } else if (c0 === CR) {
        lines++;
        pos++;
        ncr = s.indexOf('\r', pos);
        if (ncr < 0) ncr = len;
        continue;
      }
      const row: string[] = [];
      let end: number; // index of the record delimiter (len at the end of the input)
      for (;;) {
        if (s.charCodeAt(pos) === QUOTE) {
          let from = pos + 1;
          let esc = false;
          let k: number;
          for (;;) {
            k = s.indexOf('"', from);
            if (k < 0) {
              if (final) return fail('unclosed quote');
              break recLoop;
            }
            if (k + 1 >= len) {
              if (!final) break recLoop;
              break;
            }
            if (s.charCodeAt(k + 1) === QUOTE) {
              esc = true;
              from = k + 2;
              continue;
            }
            break;
          }
          const v = s.slice(pos + 1, k);
          row.push(esc ? v.replaceAll('""', '"') : v);
          while (nl < k) {
            lines++;
            nl = s.indexOf('\n', nl + 1);
            if (nl < 0) nl = len;
          }
          while (ncr < k) {
            lines++;
            ncr = s.indexOf('\r', ncr + 1);
            if (ncr < 0) ncr = len;
          }
          pos = k + 1;
          if (pos >= len) {
            end = len; // final: the closing quote was the last byte
            break;
          }
          const c = s.charCodeAt(pos);
          if (c === COMMA) {
            pos++;
            continue;
          }
          if (mode === Lf ? c === LF : mode === Cr ? c === CR : c === CR && s.charCodeAt(pos + 1) === LF) {
            end = pos;
            break;
          }
          return fail('text after a closing quote');
        }
        // Unquoted: up to the next `,` or record delimiter.
        if (nc < pos) {
          nc = s.indexOf(',', pos);
          if (nc < 0) nc = len;
        }
        let re: number;
        if (mode === Lf) re = nl;
        else if (mode === Cr) re = ncr;
        else {
          // `\r\n`: a bare `\r` or `\n` is data.
          re = ncr;
          while (re < nc && s.charCodeAt(re + 1) !== LF) {
            re = s.indexOf('\r', re + 1);
            if (re < 0) re = len;
          }
        }
        const e = nc < re ? nc : re;
        if (nq < pos) {
          nq = s.indexOf('"', pos);
          if (nq < 0) nq = len;
        }
        if (nq < e) return fail('a quote inside an unquoted field');
        if (e >= len && !final) break recLoop;
        row.push(s.slice(pos, e));
        // Line-break bytes inside the field (data) still count as lines.
        while (nl < e) {
          lines++;
          nl = s.indexOf('\n', nl + 1);
          if (nl < 0) nl = len;
        }
        while (ncr < e) {
          lines++;
          ncr = s.indexOf('\r', ncr + 1);
          if (ncr < 0) ncr = len;
        }
        if (e === nc && e < len) {
          pos = e + 1;
          continue;
        }
        end = e;
        break;
      }
      if (columns < 0) columns = row.length;
      else if (row.length !== columns) return fail('a record with another number of fields');
      if (end >= len) {
        pos = len;
      } else {
        lines++;
        if (mode === CrLf) {
          pos = end + 2;
          nl = s.indexOf('\n', pos);
          if (nl < 0) nl = len;
          ncr = s.indexOf('\r', pos);
          if (ncr < 0) ncr = len;
        } else if (mode === Lf) {
          pos = end + 1;
          nl = s.indexOf('\n', pos);
          if (nl < 0) nl = len;
        } else {
          pos = end + 1;
          ncr = s.indexOf('\r', pos);
          if (ncr < 0) ncr = len;
        }
      }
      out.push(row);
      records++;
      commit = pos;
      this.line = lines;
      this.records = records;
      this.mode = mode;
      this.columns = columns;
    }
    return commit;
  }
}

/** Where csv-parse takes over: the rest of the input (a stream) and the fast parser's state there. */
export type CsvFallbackHandler = (rest: Readable, at: FastCsvFallback) => AsyncIterable<string[]>;

/**
 * The records of a CSV stream, parsed with FastCsvParser; on its fallback, the rest (from the end of the
 * last record yielded) goes to `onFallback`, whose rows follow. Stream errors pass through as they are.
 * Leaving early destroys the stream.
 */
export async function* fastCsvRows(stream: Readable, opts: FastCsvOptions, onFallback: CsvFallbackHandler): AsyncGenerator<string[]> {
  const parser = new FastCsvParser(opts);
  const it = (stream as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]();
  const out: string[][] = [];
  try {
    for (;;) {
      const next = await it.next();
      if (next.done) parser.end(out);
      else parser.push(next.value, out);
      for (let i = 0; i < out.length; i++) yield out[i];
      out.length = 0;
      const at = parser.fallback;
      if (at) {
        let bytes: AsyncIterable<Buffer> = restOf(at.bytes, next.done ? null : it);
        if (!(opts.bom && isUtf16Le(at))) bytes = checkingUtf8(bytes, { source: opts.source ?? DEFAULT_SOURCE, line: at.line, byteOffset: at.byteOffset });
        const rest = Readable.from(bytes, { objectMode: false });
        try {
          yield* onFallback(rest, at);
        } finally {
          rest.destroy();
        }
        return;
      }
      if (next.done) return;
    }
  } finally {
    // Reached on early exit too: stop the download instead of leaving it paused.
    stream.destroy();
  }
}

/** csv-parse reads a whole file (`bom`) that starts with a UTF-16LE BOM as UTF-16LE. */
function isUtf16Le(at: FastCsvFallback): boolean {
  return at.records === 0 && at.bytes.length >= 2 && at.bytes[0] === 0xff && at.bytes[1] === 0xfe;
}

async function* restOf(first: Buffer, it: AsyncIterator<Uint8Array | string> | null): AsyncGenerator<Buffer> {
  if (first.length) yield first;
  if (!it) return;
  for (;;) {
    const next = await it.next();
    if (next.done) return;
    const v = next.value;
    yield typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.isBuffer(v) ? v : Buffer.from(v);
  }
}

/**
 * A synthetic header record of `n` fields (`""` then commas) put before a range, so that csv-parse
 * checks every row of the range against the column count (as it does after the real header), sees the
 * file's record delimiter first, and finds no BOM at the range's start.
 */
function syntheticHeader(n: number, rd: CsvRecordDelimiter): Buffer {
  const record = '""' + ','.repeat(n - 1);
  // A bare `\r` before a range starting with `\n` would read as `\r\n`: lead with an empty line ending in
  // `\r` followed by `"`, which makes csv-parse settle on `\r` first.
  return Buffer.from(rd === '\r' ? '\r' + record + '\r' : record + rd);
}

/** The parser line (1-based) where the range starts, after the synthetic header. */
function rangeLineAfterHeader(rd: CsvRecordDelimiter): number {
  return rd === '\r' ? 3 : 2;
}

/** Incremental version of csv-parse's delimiter discovery (first CR/LF outside quotes). */
class DelimiterSniffer {
  private inQuote = false;
  private pendingCr = false;
  /** Returns the delimiter once known; `end` decides a trailing `\r`. */
  feed(chunk: Buffer | null, end: boolean): CsvRecordDelimiter | undefined {
    if (chunk) {
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk[i];
        if (this.pendingCr) return c === LF ? '\r\n' : '\r';
        if (c === QUOTE) this.inQuote = !this.inQuote;
        else if (!this.inQuote && c === LF) return '\n';
        else if (!this.inQuote && c === CR) {
          if (i + 1 < chunk.length) return chunk[i + 1] === LF ? '\r\n' : '\r';
          this.pendingCr = true;
        }
      }
    }
    if (end) return this.pendingCr ? '\r' : '\n';
    return undefined;
  }
}

async function* withHeader(
  stream: Readable,
  n: number,
  rd: CsvRecordDelimiter | undefined,
  onDelimiter: (d: CsvRecordDelimiter) => void,
): AsyncGenerator<Buffer> {
  if (rd) {
    onDelimiter(rd);
    yield syntheticHeader(n, rd);
    for await (const chunk of stream) yield chunk as Buffer;
    return;
  }
  const sniffer = new DelimiterSniffer();
  let held: Buffer[] | null = [];
  for await (const c of stream) {
    const chunk = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
    if (!held) {
      yield chunk;
      continue;
    }
    held.push(chunk);
    const found = sniffer.feed(chunk, false);
    if (found) {
      onDelimiter(found);
      yield syntheticHeader(n, found);
      yield* held;
      held = null;
    }
  }
  if (held) {
    const found = sniffer.feed(null, true)!;
    onDelimiter(found);
    yield syntheticHeader(n, found);
    yield* held;
  }
}

function describeRange(err: unknown, source: string, toFileLine: (parserLine: number) => number): Error {
  if (err instanceof CsvFormatError) return err;
  if (!(err instanceof CsvError)) return err as Error; // e.g. the download failed: not the file's fault, retryable
  const e = err as CsvError & { lines?: number };
  const message = e.message.replace(/\b(at|on) line (\d+)/g, (_, w: string, l: string) => `${w} line ${toFileLine(Number(l))}`);
  return new CsvFormatError(`${source}: malformed CSV${e.lines ? ` near line ${toFileLine(e.lines)}` : ''}: ${message}`);
}

export interface CsvParseRangeOptions {
  /** csv-parse's line (in the whole file) where the range starts. */
  firstLine: number;
  /** The file's record delimiter; without it, taken from the first line break outside quotes in the range. */
  recordDelimiter?: CsvRecordDelimiter;
}

/**
 * csv-parse over a range of a file that starts at a record boundary (no header): rows checked against
 * `columns` fields; errors are CsvFormatErrors naming `source` and lines of the whole file; other errors
 * (the download's) pass through. Leaving early destroys `stream`.
 */
export async function* csvParseRange(stream: Readable, columns: number, source: string, opts: CsvParseRangeOptions): AsyncGenerator<string[]> {
  let rangeLine = 2;
  const toFileLine = (parserLine: number) => opts.firstLine + parserLine - rangeLine;
  const input = Readable.from(
    withHeader(stream, columns, opts.recordDelimiter, (d) => (rangeLine = rangeLineAfterHeader(d))),
    { objectMode: false },
  );
  const parser = parse({ ...csvParserOptions });
  // pipeline (not pipe): a failing download destroys the parser with its error instead of hanging it.
  pipeline(input, parser, () => undefined);
  let header = true;
  try {
    for await (const record of parser as unknown as AsyncIterable<string[]>) {
      if (header) {
        header = false;
        continue;
      }
      yield record;
    }
  } catch (err) {
    throw describeRange(err, source, toFileLine);
  } finally {
    // Reached on early exit too: stop the download instead of leaving it paused.
    input.destroy();
    parser.destroy();
    stream.destroy();
  }
}
