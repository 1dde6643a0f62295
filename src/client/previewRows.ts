import { createReadStream, existsSync } from 'node:fs';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Schema } from 'apache-arrow';
import { openCsv } from '../io/csv';
import { openSource } from '../io/dataset';
import type { HubSettings } from '../io/huggingface';
import { readParquetFile } from '../io/parquetRead';
import { batchRows } from '../io/parquetRows';
import type { DatasetSource } from '../shared/types';

/** A dataset a preview reads: a local file (not uploaded: previews pay nothing and write nothing) or a run's source. */
export type PreviewSource = { file: string } | DatasetSource;

interface Rows {
  columns: string[];
  rows: AsyncIterable<unknown[]>;
}

async function localRows(path: string): Promise<Rows> {
  if (!existsSync(path)) throw new Error(`no such file: ${path}`);
  if (/\.csv$/i.test(path)) {
    const { columns, rows } = await openCsv(createReadStream(path), path);
    return { columns, rows };
  }
  if (!/\.parquet$/i.test(path)) throw new Error(`${path}: a local dataset is a .csv or .parquet file`);
  const batches = readParquetFile(path);
  const first = await batches.next();
  const schema: Schema | undefined = first.done ? undefined : first.value.schema;
  return {
    columns: schema?.fields.map((f) => f.name) ?? [],
    rows: (async function* () {
      if (first.done) return;
      yield* batchRows(first.value);
      for await (const batch of batches) yield* batchRows(batch);
    })(),
  };
}

/** A run's source, the error naming it: an SDK's "Could not load credentials" alone does not say what was being read. */
async function sourceRows(clients: { s3: S3Client; hub: HubSettings }, source: DatasetSource): Promise<Rows> {
  const name = 's3Uri' in source ? source.s3Uri : `hf://datasets/${source.huggingFace.datasetId}`;
  try {
    const d = await openSource(clients, source);
    return { columns: d.schema.fields.map((f) => f.name), rows: d.rows };
  } catch (err) {
    throw new Error(`cannot read ${name}`, { cause: err });
  }
}

/**
 * Row `n` (0-based, the record id's number) of a dataset, with its column names, read the way a
 * run reads it (the same CSV and Parquet readers), stopping once the row is reached.
 */
export async function datasetRow(clients: { s3: S3Client; hub: HubSettings }, source: PreviewSource, n: number): Promise<{ columns: string[]; row: unknown[] }> {
  const { columns, rows } = 'file' in source ? await localRows(source.file) : await sourceRows(clients, source);
  let i = 0;
  for await (const row of rows) {
    // Leaving the loop ends the iterator, which stops the download.
    if (i === n) return { columns, row };
    i++;
  }
  throw new Error(`the dataset has ${i} rows (0 to ${i - 1}); there is no row ${n}`);
}
