/**
 * Splitting a big CSV into byte ranges that separate activities can parse on their own.
 *
 * `CsvBoundaryScanner` reads the whole file once (quote-aware, with Buffer.indexOf) and returns contiguous
 * byte ranges ("parts") that each start exactly at a record boundary, with the number of rows in each and
 * the line number where each starts. `openCsvRange` parses one such range (a ranged GET body, no header)
 * with the same csv-parse options as `openCsv`, so the rows of all parts, concatenated, are exactly the
 * rows `openCsv` yields for the whole file, and errors name the same line of the whole file.
 *
 * How it matches csv-parse 7 (`csvParserOptions`: bom, relax_column_count false, skip_empty_lines):
 * - Record delimiter: csv-parse takes the first CR/LF outside quotes (`\r\n`, else `\n`, else bare `\r`)
 *   and from then on only that sequence ends a record. In a `\n` file a `\r` before `\n` is field data;
 *   in a `\r\n` file a bare `\n` is field data. Bare `\r` files are not split (a single part).
 * - Quotes: in a file csv-parse accepts, `"` only opens a field, closes it, or appears doubled inside it,
 *   so toggling a flag on every `"` gives its quoting state exactly (`""` toggles twice). In a file it
 *   rejects, the boundaries before the first error are still right, so the part holding the error fails
 *   with the same message as the whole file would.
 * - Empty lines (nothing between two delimiters) are skipped, not counted; `""` alone is a row.
 * - A UTF-8 BOM at byte 0 is skipped; a UTF-16LE BOM makes csv-parse switch encodings: not split.
 * - Line numbers are csv-parse's `info.lines`, which is what openCsv's messages show: 1 + every `\r` and
 *   every `\n` before the position, except that a `\r\n` record delimiter counts once. That is the
 *   physical line in `\n` files; in `\r\n` files a `\r\n` inside a quoted field counts as two.
 */
import { Readable } from 'node:stream';
import { CsvFormatError } from './csv';
import { csvParseRange, fastCsvRows } from './fastCsv';
import { transientSourceError } from './sourceErrors';

export type CsvRecordDelimiter = '\n' | '\r\n' | '\r';

export interface CsvPart {
  /** Byte offset (in the whole object) of the part's first byte: just after a record delimiter. */
  startByte: number;
  /** Exclusive end offset (the next part's startByte, or the object size). Range GET: `bytes=start-(end-1)`. */
  endByte: number;
  /** 0-based index of the part's first data row (the header is not a row). */
  firstRow: number;
  /** Data rows in the part (empty lines are not rows). -1 when unknown (see `unsplittable`). */
  rows: number;
  /** 1-based line of the whole file where the part starts, as csv-parse counts lines (see module doc). */
  firstLine: number;
}

export interface CsvScanResult {
  /** Bytes read. */
  totalBytes: number;
  /**
   * Offset just after the header row's record delimiter (BOM, empty lines before the header and the header
   * included); equals totalBytes when there are no data bytes. 0 when the header could not be located.
   */
  headerEndByte: number;
  /** Data rows, as csv-parse counts them; -1 when unknown. */
  totalRows: number;
  /** The record delimiter csv-parse will use for this file; null if none was found or it is unknown. */
  recordDelimiter: CsvRecordDelimiter | null;
  /**
   * Contiguous ranges covering exactly [headerEndByte, totalBytes) (none if that is empty), each starting at
   * a record boundary and, except the last, ending at the first record boundary at or after
   * startByte + targetPartBytes; every part holds at least one row unless the file has no data rows.
   */
  parts: CsvPart[];
  /**
   * Set when the file is not split and `parts` is a single part: the reason. With a known recordDelimiter
   * ('\r') the part is the data after the header as usual; with recordDelimiter null it is the whole
   * object from byte 0, header included, rows -1: read it with `openCsv`.
   */
  unsplittable?: string;
}

export interface CsvScanOptions {
  /** Cut at the first record boundary at or after every this many bytes of a part (≥ 1). */
  targetPartBytes: number;
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

// Record delimiter state: not seen yet, `\n`, `\r\n`, bare `\r`, or a file this scanner does not model.
const Mode = { Discover: 0, Lf: 1, CrLf: 2, Cr: 3, Unknown: 4 } as const;
type Mode = (typeof Mode)[keyof typeof Mode];

/** Push the object's bytes in order with `push()`, then call `finish()`. */
export class CsvBoundaryScanner {
  private readonly target: number;
  private total = 0;
  /** The first bytes, kept until there are 3 of them (to look for a BOM). */
  private head: Buffer | null = Buffer.alloc(0);
  private mode: Mode = Mode.Discover;
  private unknownReason = '';
  private inQuote = false;
  /** Offset of an unquoted `\r` that ended the previous chunk (its successor decides what it is), or -1. */
  private pendingCr = -1;
  /** csv-parse's line number at the current position. */
  private lines = 1;
  private segStart = 0;
  private inHeader = true;
  private headerEnd = 0;
  private dataFirstLine = 1;
  private rows = 0;
  private readonly parts: CsvPart[] = [];
  private partStart = 0;
  private partFirstRow = 0;
  private partFirstLine = 1;
  private finished = false;

  constructor(opts: CsvScanOptions) {
    if (!(opts.targetPartBytes >= 1)) throw new RangeError(`targetPartBytes must be at least 1, got ${opts.targetPartBytes}`);
    this.target = opts.targetPartBytes;
  }

  push(chunk: Uint8Array): void {
    if (this.finished) throw new Error('CsvBoundaryScanner: push() after finish()');
    if (chunk.length === 0) return;
    let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let base = this.total;
    this.total += buf.length;
    if (this.mode === Mode.Unknown) return;
    let from = 0;
    if (this.head) {
      // csv-parse looks for a BOM once it has 3 bytes (or at the end, where it does not look at all).
      if (this.head.length + buf.length < 3) {
        this.head = Buffer.concat([this.head, buf]);
        return;
      }
      if (this.head.length) {
        buf = Buffer.concat([this.head, buf]);
        base = 0;
      }
      this.head = null;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
        from = 3;
        this.segStart = 3;
      } else if (buf[0] === 0xff && buf[1] === 0xfe) {
        this.mode = Mode.Unknown;
        this.unknownReason = 'UTF-16LE byte order mark (csv-parse switches encodings)';
        return;
      }
    }
    if (this.pendingCr >= 0) {
      const cr = this.pendingCr;
      this.pendingCr = -1;
      if (buf[from] === LF) {
        this.mode = Mode.CrLf;
        this.boundary(cr, cr + 2);
        from++;
      } else if (this.mode === Mode.Discover) {
        this.mode = Mode.Cr;
        this.boundary(cr, cr + 1);
      }
    }
    this.scan(buf, from, base);
  }

  private scan(buf: Buffer, from: number, base: number): void {
    const len = buf.length;
    let inQuote = this.inQuote;
    let lines = this.lines;
    let nq = buf.indexOf(QUOTE, from);
    if (nq < 0) nq = len;
    let nl = buf.indexOf(LF, from);
    if (nl < 0) nl = len;
    let ncr = buf.indexOf(CR, from);
    if (ncr < 0) ncr = len;
    for (;;) {
      if (inQuote) {
        // Inside a quoted field only the closing quote matters; line breaks before it only count lines.
        const q = nq;
        while (nl < q) {
          lines++;
          nl = buf.indexOf(LF, nl + 1);
          if (nl < 0) nl = len;
        }
        while (ncr < q) {
          lines++;
          ncr = buf.indexOf(CR, ncr + 1);
          if (ncr < 0) ncr = len;
        }
        if (q >= len) break;
        if (q + 1 < len && buf[q + 1] === QUOTE) {
          nq = buf.indexOf(QUOTE, q + 2); // `""`: an escaped quote
        } else {
          inQuote = false;
          nq = buf.indexOf(QUOTE, q + 1);
        }
        if (nq < 0) nq = len;
        continue;
      }
      let p = nq < nl ? nq : nl;
      if (ncr < p) p = ncr;
      if (p >= len) break;
      if (p === nq) {
        if (p + 1 < len && buf[p + 1] === QUOTE) {
          // `""` outside quotes: an empty quoted field, no net change.
          nq = buf.indexOf(QUOTE, p + 2);
        } else {
          inQuote = !inQuote;
          nq = buf.indexOf(QUOTE, p + 1);
        }
        if (nq < 0) nq = len;
      } else if (p === nl) {
        lines++;
        const mode = this.mode;
        if (!inQuote && (mode === Mode.Lf || mode === Mode.Discover)) {
          this.mode = Mode.Lf;
          this.lines = lines;
          this.boundary(base + p, base + p + 1);
        }
        nl = buf.indexOf(LF, p + 1);
        if (nl < 0) nl = len;
      } else {
        lines++;
        const mode = this.mode;
        if (!inQuote && mode !== Mode.Lf) {
          if (mode === Mode.Cr) {
            this.lines = lines;
            this.boundary(base + p, base + p + 1);
          } else if (p + 1 === len) {
            this.pendingCr = base + p; // CrLf or Discover: the next chunk's first byte decides
          } else if (buf[p + 1] === LF) {
            this.mode = Mode.CrLf;
            this.lines = lines;
            this.boundary(base + p, base + p + 2);
            // The `\n` of a `\r\n` delimiter is consumed with it (csv-parse does not count it as a line).
            nl = buf.indexOf(LF, p + 2);
            if (nl < 0) nl = len;
          } else if (mode === Mode.Discover) {
            this.mode = Mode.Cr;
            this.lines = lines;
            this.boundary(base + p, base + p + 1);
          }
        }
        ncr = buf.indexOf(CR, p + 1);
        if (ncr < 0) ncr = len;
      }
    }
    this.inQuote = inQuote;
    this.lines = lines;
  }

  /** A record delimiter outside quotes at [start, end); this.lines is the line after it. */
  private boundary(start: number, end: number): void {
    if (start === this.segStart) {
      this.segStart = end; // empty line: skipped by csv-parse
      return;
    }
    this.segStart = end;
    if (this.inHeader) {
      this.inHeader = false;
      this.headerEnd = end;
      this.partStart = end;
      this.partFirstLine = this.dataFirstLine = this.lines;
      return;
    }
    this.rows++;
    if (end - this.partStart >= this.target) {
      this.parts.push({
        startByte: this.partStart,
        endByte: end,
        firstRow: this.partFirstRow,
        rows: this.rows - this.partFirstRow,
        firstLine: this.partFirstLine,
      });
      this.partStart = end;
      this.partFirstRow = this.rows;
      this.partFirstLine = this.lines;
    }
  }

  finish(): CsvScanResult {
    if (this.finished) throw new Error('CsvBoundaryScanner: finish() called twice');
    this.finished = true;
    const total = this.total;
    if (this.head) {
      // Under 3 bytes in all: csv-parse does not look for a BOM then.
      const head = this.head;
      this.head = null;
      this.scan(head, 0, 0);
    }
    if (this.pendingCr >= 0) {
      // A `\r` as the very last byte: a bare `\r` delimiter if none was known yet, else field data.
      if (this.mode === Mode.Discover) {
        this.mode = Mode.Cr;
        this.boundary(this.pendingCr, this.pendingCr + 1);
      }
      this.pendingCr = -1;
    }
    if (this.mode !== Mode.Unknown && this.inHeader && this.inQuote) {
      this.mode = Mode.Unknown;
      this.unknownReason = 'the header row has an unclosed quote';
    }
    if (this.mode === Mode.Unknown) {
      return {
        totalBytes: total,
        headerEndByte: 0,
        totalRows: -1,
        recordDelimiter: null,
        parts: [{ startByte: 0, endByte: total, firstRow: 0, rows: -1, firstLine: 1 }],
        unsplittable: this.unknownReason,
      };
    }
    if (total > this.segStart) {
      // The last record has no delimiter after it (or is an unclosed quoted field, which its part reports).
      if (!this.inHeader) this.rows++;
    }
    const recordDelimiter =
      this.mode === Mode.Lf ? '\n' : this.mode === Mode.CrLf ? '\r\n' : this.mode === Mode.Cr ? '\r' : null;
    if (this.inHeader) {
      // No data bytes: no record at all (empty file, only empty lines), or a header without a delimiter.
      return { totalBytes: total, headerEndByte: total, totalRows: 0, recordDelimiter, parts: [] };
    }
    const headerEndByte = this.headerEnd;
    if (this.mode === Mode.Cr) {
      return {
        totalBytes: total,
        headerEndByte,
        totalRows: this.rows,
        recordDelimiter,
        parts:
          headerEndByte < total
            ? [{ startByte: headerEndByte, endByte: total, firstRow: 0, rows: this.rows, firstLine: this.dataFirstLine }]
            : [],
        unsplittable: 'bare \\r record delimiters',
      };
    }
    const parts = this.parts;
    if (total > this.partStart) {
      const rows = this.rows - this.partFirstRow;
      const prev = parts[parts.length - 1];
      if (rows === 0 && prev) {
        prev.endByte = total; // only empty lines after the last cut: they belong to the previous part
      } else {
        parts.push({ startByte: this.partStart, endByte: total, firstRow: this.partFirstRow, rows, firstLine: this.partFirstLine });
      }
    }
    return { totalBytes: total, headerEndByte, totalRows: this.rows, recordDelimiter, parts };
  }

}

/** Scans a whole CSV (e.g. an S3 GetObject body) and plans its parts. */
export async function scanCsvBoundaries(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: CsvScanOptions,
): Promise<CsvScanResult> {
  const scanner = new CsvBoundaryScanner(opts);
  for await (const chunk of chunks) scanner.push(chunk);
  return scanner.finish();
}

export interface CsvRangeOptions {
  /** The part's `firstLine`: error messages name lines of the whole file. */
  firstLine: number;
  /** The part's `startByte`: error messages name byte offsets in the whole file (default 0). */
  firstByte?: number;
  /** The part's `rows`: a different count is a CsvFormatError. */
  expectedRows?: number;
  /**
   * The scan's `recordDelimiter`. Pass it: without it, it is taken from the first line break outside
   * quotes in the range, which is only wrong for files that mix line endings.
   */
  recordDelimiter?: CsvRecordDelimiter;
}

/**
 * Parses one part (a body starting at a record boundary, without the header) like `openCsv` parses the
 * whole file: rows are string arrays in column order; a row with another number of fields than
 * `columns`, bad quoting or invalid UTF-8, is a CsvFormatError naming the source and the line of the whole
 * file; so is a row count other than `expectedRows`. Leaving the loop early destroys `stream`.
 */
export function openCsvRange(
  stream: Readable,
  columns: string[],
  source: string,
  opts: CsvRangeOptions,
): AsyncIterable<string[]> {
  if (columns.length === 0) throw new RangeError('openCsvRange: no columns');
  const n = columns.length;
  return {
    async *[Symbol.asyncIterator]() {
      // The fast parser; what it is not sure about (bad quoting, a wrong field count...) csv-parse re-reads
      // from the end of the last row yielded, for its exact rows and messages.
      const records = fastCsvRows(
        stream,
        { columns: n, recordDelimiter: opts.recordDelimiter, firstLine: opts.firstLine, firstByte: opts.firstByte, source },
        (rest, at) => csvParseRange(rest, n, source, { firstLine: at.line, recordDelimiter: at.recordDelimiter }),
      );
      const expected = opts.expectedRows;
      let rows = 0;
      try {
        for await (const record of records) {
          rows++;
          if (expected !== undefined && rows > expected) {
            throw new CsvFormatError(
              `${source}: the part starting at line ${opts.firstLine} holds more than the ${expected} rows expected`,
            );
          }
          yield record;
        }
      } catch (err) {
        // A download that broke off is the source's trouble: retryable, named.
        throw transientSourceError(`reading ${source}`, err) ?? err;
      } finally {
        // Reached on early exit too: stop the download instead of leaving it paused.
        stream.destroy();
      }
      if (expected !== undefined && rows !== expected) {
        throw new CsvFormatError(
          `${source}: the part starting at line ${opts.firstLine} holds ${rows} rows, expected ${expected}`,
        );
      }
    },
  };
}
