import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { findTemporalBinary } from '../../src/localstack';
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

/**
 * With EXPORT_HISTORIES=<dir>, writes the histories of these workflows there as replay fixtures
 * (test/replay replays every file in test/histories against the current workflow code).
 */
export function exportHistories(temporalAddress: string, workflowIds: string[], prefix = ''): void {
  const dir = process.env.EXPORT_HISTORIES;
  if (!dir) return;
  for (const id of workflowIds) {
    const json = execFileSync(findTemporalBinary(), ['workflow', 'show', '-w', id, '--output', 'json', '--address', temporalAddress], { encoding: 'utf8' });
    writeFileSync(join(dir, `${prefix}${id.replace(/\//g, '__')}.json`), `${JSON.stringify({ workflowId: id, history: JSON.parse(json) })}\n`);
  }
}

/** As exportHistories, for one run of a workflow id (an earlier page of a run that continued as new), into `<name>.json`. */
export function exportRunHistory(temporalAddress: string, workflowId: string, runId: string, name: string): void {
  const dir = process.env.EXPORT_HISTORIES;
  if (!dir) return;
  const json = execFileSync(findTemporalBinary(), ['workflow', 'show', '-w', workflowId, '-r', runId, '--output', 'json', '--address', temporalAddress], { encoding: 'utf8' });
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify({ workflowId, history: JSON.parse(json) })}\n`);
}
