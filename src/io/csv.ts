import { pipeline, Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { CsvFormatError, csvParseRange, csvParserOptions, fastCsvRows } from './fastCsv';
import { transientSourceError } from './sourceErrors';

// From fastCsv.ts (which csv.ts and csvSplit.ts both build on), exported from here as before.
export { CsvFormatError, csvParserOptions };

export interface CsvRows {
  columns: string[];
  rows: AsyncIterable<string[]>;
}

function parser() {
  return parse({ ...csvParserOptions });
}

function describe(err: unknown, source: string): Error {
  if (err instanceof CsvFormatError) return err; // already names the source and the line (csvParseRange)
  // e.g. the download failed: not the file's fault, retryable (named, when it is the source's passing trouble).
  if (!(err instanceof CsvError)) return transientSourceError(`reading ${source}`, err) ?? (err as Error);
  const e = err as { message?: string; code?: string; lines?: number };
  return new CsvFormatError(`${source}: malformed CSV${e.lines ? ` near line ${e.lines}` : ''}: ${e.message ?? String(err)}`);
}

/** Streams a CSV with a header row; the first row names the columns. */
export async function openCsv(stream: Readable, source: string): Promise<CsvRows> {
  // The fast parser; what it is not sure about (bad quoting, a wrong field count...) csv-parse re-reads, for
  // its exact rows and messages: the whole file if that is before the end of the header, else the rest
  // after the last row yielded, read as a byte range of the file.
  const records = fastCsvRows(stream, { bom: true, source }, (rest, at) => {
    if (at.records === 0) {
      const p = parser();
      pipeline(rest, p, () => undefined);
      return p as unknown as AsyncIterable<string[]>;
    }
    return csvParseRange(rest, at.columns!, source, { firstLine: at.line, recordDelimiter: at.recordDelimiter });
  });
  const iterator = records[Symbol.asyncIterator]();
  let first: IteratorResult<string[]>;
  try {
    first = await iterator.next();
  } catch (err) {
    throw describe(err, source);
  }
  if (first.done) throw new CsvFormatError(`${source}: the CSV is empty (no header row)`);
  const columns = first.value.map((c) => c.trim());
  const dupes = columns.filter((c, i) => columns.indexOf(c) !== i);
  if (dupes.length) throw new CsvFormatError(`${source}: duplicate column names: ${[...new Set(dupes)].join(', ')}`);
  if (columns.some((c) => !c)) throw new CsvFormatError(`${source}: the header has an empty column name`);
  const rows = {
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          const next = await iterator.next();
          if (next.done) return;
          yield next.value;
        }
      } catch (err) {
        throw describe(err, source);
      } finally {
        // Reached on early exit too (maxRecords): stop the download instead of leaving it paused.
        stream.destroy();
      }
    },
  };
  return { columns, rows };
}

/** Reads only the header row, stopping the download after it. */
export async function readCsvHeader(stream: Readable, source: string): Promise<string[]> {
  try {
    const { columns } = await openCsv(stream, source);
    return columns;
  } finally {
    stream.destroy();
  }
}
