import type { S3Client } from '@aws-sdk/client-s3';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { RECORD_ID } from '../core/outputSchema';
import { recordIdForRow, rowIndexOfRecordId } from '../core/recordId';
import { readParquetFromS3 } from '../io/parquetRead';
import { headObject, listObjects, readObjectText } from '../io/s3';
import { jobIdOfArn } from '../shared/jobNames';
import { outputFileIndex, outputFileUri, runFiles } from '../shared/paths';
import type { ShardJob, ShardOutcome } from '../shared/types';
import { readRunHistory } from './runHistory';

/** Where one input record went: its shard, the jobs that carried it, and the output row it became. */
export interface RecordLineage {
  workflowId: string;
  recordId: string;
  runUri: string;
  shardIndex: number;
  /** The shard's Bedrock input (JSONL) and input-row snapshot. */
  shardInput: { jsonl: string; snapshot: string };
  /** The shard's workflow and how it stands; its jobs once it completed. */
  shardWorkflow: { workflowId: string; status: string };
  jobs: ShardJob[];
  /** The job whose output line the row carries (for an unanswered row: the shard's last job). */
  job?: { jobId: string; attempt?: number; jobArn?: string };
  outputFile?: string;
  status: 'answered' | 'record_error' | 'unanswered' | 'not_written';
  errorCode?: string;
  errorMessage?: string;
}

/** `00000000042` or `42`: record ids are row positions, zero-padded to 11 digits. */
export function normalizeRecordId(arg: string): string {
  if (/^\d{1,10}$/.test(arg)) return recordIdForRow(Number(arg));
  rowIndexOfRecordId(arg); // throws naming what a record id looks like
  return arg;
}

interface ShardManifest {
  rowCount: number;
  shards: Array<{ index?: number; records: number; jsonlUri: string; snapshotUri: string }>;
}

/** Shards hold consecutive rows in index order, so the row's shard is found by counting records. */
export function shardOfRow(shards: ShardManifest['shards'], row: number): number | undefined {
  let first = 0;
  for (let i = 0; i < shards.length; i++) {
    if (row < first + shards[i].records) return shards[i].index ?? i;
    first += shards[i].records;
  }
  return undefined;
}

async function shardWorkflowJobs(client: Client, workflowId: string): Promise<{ status: string; jobs: ShardJob[] }> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    const status = (await handle.describe()).status.name;
    if (status !== 'COMPLETED') return { status, jobs: [] };
    const outcome = (await handle.result()) as ShardOutcome;
    return { status, jobs: outcome.jobs ?? (outcome.jobArn ? [{ attempt: outcome.attempts, jobArn: outcome.jobArn, status: outcome.jobStatus ?? '' }] : []) };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { status: 'NOT_FOUND', jobs: [] };
    throw err;
  }
}

/** The record's output row: which file holds it, its error and the job id it carries. */
async function findOutputRow(s3: S3Client, runUri: string, shardIndex: number, recordId: string) {
  const prefix = outputFileUri(runUri, shardIndex, 0).replace(/-\d+\.parquet$/, '');
  for await (const object of listObjects(s3, prefix)) {
    if (outputFileIndex(object.key)?.shardIndex !== shardIndex) continue;
    for await (const batch of readParquetFromS3(s3, object.uri, { columns: [RECORD_ID, 'error_code', 'error_message', 'job_id'] })) {
      const ids = batch.getChild(RECORD_ID)!;
      for (let i = 0; i < batch.numRows; i++) {
        if (ids.get(i) !== recordId) continue;
        const text = (name: string) => (batch.getChild(name)?.get(i) as string | null | undefined) ?? undefined;
        return { uri: object.uri, errorCode: text('error_code'), errorMessage: text('error_message'), jobId: text('job_id') };
      }
    }
  }
  return undefined;
}

/** Traces one record of a run through its files and its shard's workflow; needs no worker. */
export async function recordLineage(client: Client, s3: S3Client, workflowId: string, recordIdArg: string): Promise<RecordLineage> {
  const recordId = normalizeRecordId(recordIdArg);
  const runUri = (await readRunHistory(client, workflowId)).run?.runUri;
  if (!runUri) throw new Error(`${workflowId} ended before it resolved its run: it has no shards and no records`);
  const manifestUri = runFiles(runUri).shardManifest;
  if (!(await headObject(s3, manifestUri))) throw new Error(`${manifestUri} not found: the run has not cut its shards yet, or its files were removed`);
  const manifest = JSON.parse(await readObjectText(s3, manifestUri)) as ShardManifest;
  const shardIndex = shardOfRow(manifest.shards, rowIndexOfRecordId(recordId));
  if (shardIndex === undefined) throw new Error(`record ${recordId} is not in ${workflowId}: its run has ${manifest.rowCount} rows (record ids 0 to ${manifest.rowCount - 1})`);
  const entry = manifest.shards.find((s, i) => (s.index ?? i) === shardIndex)!;
  const shardWorkflowId = `${workflowId}/shard-${shardIndex}`;
  const [shard, row] = await Promise.all([shardWorkflowJobs(client, shardWorkflowId), findOutputRow(s3, runUri, shardIndex, recordId)]);
  const lineage: RecordLineage = {
    workflowId,
    recordId,
    runUri,
    shardIndex,
    shardInput: { jsonl: entry.jsonlUri, snapshot: entry.snapshotUri },
    shardWorkflow: { workflowId: shardWorkflowId, status: shard.status },
    jobs: shard.jobs,
    status: 'not_written',
  };
  if (!row) return lineage;
  const job = row.jobId ? shard.jobs.find((j) => jobIdOfArn(j.jobArn) === row.jobId) : undefined;
  return {
    ...lineage,
    outputFile: row.uri,
    ...(row.jobId ? { job: { jobId: row.jobId, attempt: job?.attempt, jobArn: job?.jobArn } } : {}),
    // A record error is Bedrock's answer for the record; our own codes (JOB_STOPPED, …) mean no job answered it.
    status: row.errorCode === undefined ? 'answered' : /^[A-Z_]+$/.test(row.errorCode) ? 'unanswered' : 'record_error',
    errorCode: row.errorCode,
    errorMessage: row.errorMessage,
  };
}
