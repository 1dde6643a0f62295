import { createS3Client } from '../../io/s3';
import { table } from '../format';
import { type RecordLineage, recordLineage } from '../lineage';
import { EXIT } from '../runResult';
import type { CliContext } from './context';

const STATUS_TEXT: Record<RecordLineage['status'], string> = {
  answered: 'answered',
  record_error: 'answered with a record error',
  unanswered: 'no answer',
  not_written: 'not written yet (its shard has not finished)',
};

export function lineageLines(l: RecordLineage): string[] {
  const rows: string[][] = [
    ['record', `${l.recordId} of ${l.workflowId}`],
    ['shard', `${l.shardIndex} (workflow ${l.shardWorkflow.workflowId}: ${l.shardWorkflow.status.toLowerCase()})`],
    ['shard input', l.shardInput.jsonl],
  ];
  for (const job of l.jobs) rows.push([`job attempt ${job.attempt}`, `${job.jobArn} ${job.status}${job.records === undefined ? '' : `, ${job.records} records`}`]);
  if (l.job) rows.push(['row from', l.job.attempt === undefined ? `job ${l.job.jobId}` : `attempt ${l.job.attempt}: ${l.job.jobArn}`]);
  rows.push(['output file', l.outputFile ?? '-']);
  rows.push(['status', STATUS_TEXT[l.status]]);
  if (l.errorCode !== undefined) rows.push(['error', `${l.errorCode}: ${l.errorMessage ?? ''}`]);
  return table(rows);
}

/** `lineage <id> <recordId> [--json]`: the shard, jobs, output file and status of one record. */
export async function lineage(ctx: CliContext): Promise<number> {
  const [id, recordId] = ctx.positionals;
  if (!id || !recordId) throw new Error('lineage needs a workflow id and a record id (the row position, e.g. 42 or 00000000042)');
  const s3 = createS3Client(ctx.config().s3);
  try {
    const l = await recordLineage(await ctx.client(), s3, id, recordId);
    if (ctx.options.json) ctx.out(JSON.stringify(l, null, 2));
    else for (const line of lineageLines(l)) ctx.out(line);
    return EXIT.complete;
  } finally {
    s3.destroy();
  }
}
