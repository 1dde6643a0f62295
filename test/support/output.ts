import type { S3Client } from '@aws-sdk/client-s3';
import { readParquetFromS3 } from '../../src/io/parquetRead';
import { listObjects } from '../../src/io/s3';

export type OutputRow = Record<string, unknown>;

/** Every row of every Parquet part under a run's output folder. */
export async function readRunOutput(s3: S3Client, outputUris: string[]): Promise<OutputRow[]> {
  const rows: OutputRow[] = [];
  for (const uri of outputUris) {
    for await (const batch of readParquetFromS3(s3, uri)) {
      for (const row of batch.toArray()) rows.push(row.toJSON());
    }
  }
  return rows;
}

export async function listKeys(s3: S3Client, prefixUri: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of listObjects(s3, prefixUri)) keys.push(o.key);
  return keys;
}
