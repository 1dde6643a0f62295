/**
 * Deterministic SimpleCoT look-alike datasets for the benchmark, cached under .local/bench/:
 *   simplecot-<N>.csv / .parquet / .json  (source,target,rationale,task,type)
 *   embed-<N>.csv / .json                 (id,input_text; input of the embedding stage)
 * Files are reused when their .json metadata (written last) matches the files on disk.
 *
 *   npx tsx bench/generate.ts --rows 100000 [--embed-rows 50000]
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Field, RecordBatch, Schema, Utf8 } from 'apache-arrow';
import { recordBatchOf, utf8Data } from '../src/io/arrowColumns';
import { writeParquetToFile } from '../src/io/parquetWrite';
import { Prng, SIMPLECOT_COLUMNS, SimpleCotRows, buildCorpus, csvField, cut } from './textgen';

export const CACHE_DIR = resolve(__dirname, '../.local/bench');
const GENERATOR_VERSION = 3;
const MiB = 1024 * 1024;
const BATCH_BYTES = 8 * MiB;
/**
 * Passed as maxRowGroupBytes. arrow-rs checks it against its own in-memory estimate, which for
 * these string columns is ~2/3 of the footer's totalByteSize: 64 MiB gave 98 MiB row groups
 * (71,816 rows). 42 MiB gives the ~64 MiB (uncompressed) row groups wanted here.
 */
const ROW_GROUP_BYTES = 42 * MiB;

export interface SimpleCotFiles {
  rows: number;
  csvPath: string;
  parquetPath: string;
  csvBytes: number;
  parquetBytes: number;
  /** UTF-8 bytes of all field values (what HF reports as the uncompressed size, minus offsets). */
  textBytes: number;
  /** Average UTF-8 bytes per row for each column. */
  columnBytesPerRow: Record<string, number>;
  generator: number;
  seconds: number;
}

export interface EmbedFiles {
  rows: number;
  csvPath: string;
  csvBytes: number;
  textBytes: number;
  generator: number;
  seconds: number;
}

/** CSV text, written in ~1 MiB strings with backpressure: memory stays flat whatever the row count. */
class CsvFile {
  private readonly out;
  private chunk = '';
  private failed: Error | undefined;
  bytes = 0;

  constructor(readonly path: string, header: readonly string[]) {
    this.out = createWriteStream(path, { highWaterMark: MiB });
    this.out.on('error', (err) => (this.failed ??= err));
    this.chunk = `${header.join(',')}\n`;
  }

  async row(values: readonly string[]): Promise<void> {
    let line = '';
    for (let i = 0; i < values.length; i++) line += (i ? ',' : '') + csvField(values[i]);
    this.chunk += `${line}\n`;
    if (this.chunk.length >= MiB) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.failed) throw this.failed;
    const buf = Buffer.from(this.chunk, 'utf8');
    this.chunk = '';
    this.bytes += buf.byteLength;
    if (!this.out.write(buf)) await new Promise<void>((r) => this.out.once('drain', () => r()));
  }

  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((res, rej) => this.out.end((err?: Error | null) => (err ? rej(err) : res())));
  }
}

function readMeta<T extends { generator: number; rows: number }>(path: string, rows: number, files: string[]): T | undefined {
  if (!existsSync(path) || files.some((f) => !existsSync(f))) return undefined;
  try {
    const meta = JSON.parse(readFileSync(path, 'utf8')) as T & { csvBytes?: number; parquetBytes?: number };
    if (meta.generator !== GENERATOR_VERSION || meta.rows !== rows) return undefined;
    if (meta.csvBytes !== undefined && statSync(files[0]).size !== meta.csvBytes) return undefined;
    if (meta.parquetBytes !== undefined && files[1] && statSync(files[1]).size !== meta.parquetBytes) return undefined;
    return meta;
  } catch {
    return undefined;
  }
}

/**
 * The SimpleCoT look-alike of `rows` rows as CSV and Parquet (ZSTD is the app's default; SNAPPY is
 * what pyarrow/HF write, used here), generated in one pass: every row goes to the CSV and to an
 * ~8 MiB Arrow batch that the app's Parquet writer (row groups ~64 MiB uncompressed) consumes.
 */
export async function ensureSimpleCot(rows: number, log: (msg: string) => void = () => undefined): Promise<SimpleCotFiles> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const base = resolve(CACHE_DIR, `simplecot-${rows}`);
  const csvPath = `${base}.csv`;
  const parquetPath = `${base}.parquet`;
  const cached = readMeta<SimpleCotFiles>(`${base}.json`, rows, [csvPath, parquetPath]);
  if (cached) return { ...cached, csvPath, parquetPath };

  log(`generating ${rows.toLocaleString()} SimpleCoT-like rows → ${base}.{csv,parquet}`);
  const started = Date.now();
  const gen = new SimpleCotRows();
  const tmpCsv = `${csvPath}.${process.pid}.tmp`;
  const csv = new CsvFile(tmpCsv, SIMPLECOT_COLUMNS);
  const schema = new Schema(SIMPLECOT_COLUMNS.map((c) => new Field(c, new Utf8(), true)));
  const colBytes = SIMPLECOT_COLUMNS.map(() => 0);
  let produced = 0;

  async function* batches(): AsyncGenerator<RecordBatch> {
    let cols: string[][] = SIMPLECOT_COLUMNS.map(() => []);
    let bytes = 0;
    while (produced < rows) {
      const row = gen.next();
      await csv.row(row);
      for (let c = 0; c < row.length; c++) {
        cols[c].push(row[c]);
        const b = Buffer.byteLength(row[c], 'utf8');
        colBytes[c] += b;
        bytes += b;
      }
      produced++;
      if (produced % 500_000 === 0) log(`  ${produced.toLocaleString()} rows`);
      if (bytes >= BATCH_BYTES || produced === rows) {
        const batch = recordBatchOf(schema, cols.map((values) => utf8Data(values)));
        cols = SIMPLECOT_COLUMNS.map(() => []);
        bytes = 0;
        yield batch;
      }
    }
  }

  await writeParquetToFile(parquetPath, batches(), { compression: 'snappy', maxRowGroupBytes: ROW_GROUP_BYTES, maxRowGroupRows: 10_000_000, schema });
  await csv.close();
  await rename(tmpCsv, csvPath);
  const textBytes = colBytes.reduce((a, b) => a + b, 0);
  const meta: SimpleCotFiles = {
    rows,
    csvPath,
    parquetPath,
    csvBytes: statSync(csvPath).size,
    parquetBytes: statSync(parquetPath).size,
    textBytes,
    columnBytesPerRow: Object.fromEntries(SIMPLECOT_COLUMNS.map((c, i) => [c, Math.round(colBytes[i] / rows)])),
    generator: GENERATOR_VERSION,
    seconds: (Date.now() - started) / 1000,
  };
  writeFileSync(`${base}.json`, JSON.stringify(meta, null, 1));
  log(`  done in ${meta.seconds.toFixed(1)} s: CSV ${(meta.csvBytes / MiB).toFixed(0)} MiB, Parquet ${(meta.parquetBytes / MiB).toFixed(0)} MiB, ${(textBytes / rows).toFixed(0)} B/row`);
  return meta;
}

/** Input of the embedding stage: `id,input_text` with passage-length text (~400 chars, long tail). */
export async function ensureEmbedCsv(rows: number, log: (msg: string) => void = () => undefined): Promise<EmbedFiles> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const base = resolve(CACHE_DIR, `embed-${rows}`);
  const csvPath = `${base}.csv`;
  const cached = readMeta<EmbedFiles>(`${base}.json`, rows, [csvPath]);
  if (cached) return { ...cached, csvPath };

  log(`generating ${rows.toLocaleString()} embedding input rows → ${csvPath}`);
  const started = Date.now();
  const rng = new Prng('embed-bench-v1');
  const corpus = buildCorpus(rng, 32 * MiB);
  const tmp = `${csvPath}.${process.pid}.tmp`;
  const csv = new CsvFile(tmp, ['id', 'input_text']);
  let textBytes = 0;
  for (let i = 0; i < rows; i++) {
    const text = cut(corpus, rng, rng.lognormal(330, 0.6, 8, 6000));
    textBytes += Buffer.byteLength(text, 'utf8');
    await csv.row([`doc-${i}`, text]);
  }
  await csv.close();
  await rename(tmp, csvPath);
  const meta: EmbedFiles = { rows, csvPath, csvBytes: statSync(csvPath).size, textBytes, generator: GENERATOR_VERSION, seconds: (Date.now() - started) / 1000 };
  writeFileSync(`${base}.json`, JSON.stringify(meta, null, 1));
  log(`  done in ${meta.seconds.toFixed(1)} s: CSV ${(meta.csvBytes / MiB).toFixed(0)} MiB`);
  return meta;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const arg = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  const rows = arg('--rows') ?? 2_214_941;
  const embedRows = arg('--embed-rows');
  (async () => {
    console.log(JSON.stringify(await ensureSimpleCot(rows, console.log), null, 1));
    if (embedRows) console.log(JSON.stringify(await ensureEmbedCsv(embedRows, console.log), null, 1));
  })().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
