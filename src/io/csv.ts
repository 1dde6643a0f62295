import { Readable } from 'node:stream';
import { parse } from 'csv-parse';

export class CsvFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvFormatError';
  }
}

export interface CsvRows {
  columns: string[];
  rows: AsyncIterable<string[]>;
}

/**
 * The csv-parse options every CSV read uses (whole files here, byte ranges in csvSplit.ts): the two must
 * count records identically. Arrays, not objects: the template is compiled against column indexes once
 * (faster, see data-path.md).
 */
export const csvParserOptions = Object.freeze({ bom: true, relax_column_count: false, skip_empty_lines: true } as const);

function parser() {
  return parse({ ...csvParserOptions });
}

function describe(err: unknown, source: string): Error {
  const e = err as { message?: string; code?: string; lines?: number };
  return new CsvFormatError(`${source}: malformed CSV${e.lines ? ` near line ${e.lines}` : ''}: ${e.message ?? String(err)}`);
}

/** Streams a CSV with a header row; the first row names the columns. */
export async function openCsv(stream: Readable, source: string): Promise<CsvRows> {
  const iterator = stream.pipe(parser())[Symbol.asyncIterator]() as AsyncIterator<string[]>;
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
