import { createInterface } from 'node:readline';
import { Context } from '@temporalio/activity';
import { headObject, listObjects, openObjectStream, readObjectText } from '../io/s3';
import { readParquetFromS3 } from '../io/parquetRead';
import { writeParquetToS3 } from '../io/parquetWrite';
import { JoinCounts, joinBatch } from '../core/join';
import { RecordResult, parseOutputLine } from '../core/outputLine';
import { resolveModelAdapter } from '../models/registry';
import { shardPaths } from '../shared/paths';
import { ResolvedRun, ShardOutcome } from '../shared/types';
import { ActivityDeps } from './deps';
import { jobIdOfArn } from './bedrockJobs';

export interface CollectShardRequest {
  run: ResolvedRun;
  shardIndex: number;
  attempts: number;
  jobArn?: string;
  jobStatus?: string;
  /** Set when no attempt produced outputs: every row of the shard carries this error. */
  failure?: { code: string; message: string };
}

const HEARTBEAT_EVERY_LINES = 5_000;

/**
 * Reads a finished job's output lines (any order) into a map by record id, then streams the
 * shard's input snapshot through the join into the shard's Parquet part. Memory is one shard's
 * results (≤ 50,000 records) plus one snapshot batch.
 */
export function makeCollectShard(deps: ActivityDeps) {
  async function collectShard(req: CollectShardRequest): Promise<ShardOutcome> {
    const { run, shardIndex } = req;
    const adapter = resolveModelAdapter(run.modelId, run.invocationType);
    const paths = shardPaths(run.runUri, shardIndex);
    const jobId = req.jobArn ? jobIdOfArn(req.jobArn) : undefined;
    const results = new Map<string, RecordResult>();
    if (jobId && !req.failure) {
      let lines = 0;
      for await (const object of listObjects(deps.s3, `${paths.bedrockOutput}${jobId}/`)) {
        if (!object.key.endsWith('.jsonl.out')) continue;
        const { body } = await openObjectStream(deps.s3, object.uri);
        for await (const line of createInterface({ input: body, crlfDelay: Infinity })) {
          if (!line.trim()) continue;
          const result = parseOutputLine(line, adapter);
          results.set(result.recordId, result);
          if (++lines % HEARTBEAT_EVERY_LINES === 0) Context.current().heartbeat({ lines });
        }
      }
    }
    const counts: JoinCounts = { rows: 0, succeeded: 0, failed: 0, inputTokens: 0, outputTokens: 0 };
    const joined = (async function* () {
      for await (const batch of readParquetFromS3(deps.s3, paths.snapshot)) {
        yield joinBatch(batch, results, run.task, jobId, counts, req.failure);
        Context.current().heartbeat({ rows: counts.rows });
      }
    })();
    await writeParquetToS3(deps.s3, paths.part, joined, {
      compression: run.task === 'embedding' ? 'snappy' : 'zstd',
      maxRowGroupBytes: 64 * 1024 * 1024,
    });
    // The manifest is what Bedrock bills, and the only token count for families whose records carry none.
    const billed = jobId && !req.failure ? await readManifestTokens(deps, `${paths.bedrockOutput}${jobId}/manifest.json.out`) : undefined;
    if (billed) Object.assign(counts, billed);
    return {
      shardIndex,
      status: req.failure ? 'failed' : 'succeeded',
      jobArn: req.jobArn,
      jobStatus: req.jobStatus,
      attempts: req.attempts,
      partUri: paths.part,
      message: req.failure?.message,
      ...counts,
    };
  }

  /**
   * Writes the rows of shards that were never submitted (the budget ran out) with the reason,
   * so the output still has every input row. One activity for the whole range keeps history small.
   */
  async function writeUnsubmittedShards(req: { run: ResolvedRun; from: number; to: number; failure: { code: string; message: string } }) {
    const total = { rows: 0, failed: 0 };
    for (let shardIndex = req.from; shardIndex < req.to; shardIndex++) {
      const outcome = await collectShard({ run: req.run, shardIndex, attempts: 0, failure: req.failure });
      total.rows += outcome.rows;
      total.failed += outcome.failed;
      Context.current().heartbeat({ shardIndex });
    }
    return total;
  }

  return { collectShard, writeUnsubmittedShards };
}

async function readManifestTokens(deps: ActivityDeps, uri: string): Promise<{ inputTokens: number; outputTokens: number } | undefined> {
  if (!(await headObject(deps.s3, uri))) return undefined;
  const manifest = JSON.parse(await readObjectText(deps.s3, uri)) as { inputTokenCount?: unknown; outputTokenCount?: unknown };
  const input = manifest.inputTokenCount;
  const output = manifest.outputTokenCount;
  return typeof input === 'number' && typeof output === 'number' ? { inputTokens: input, outputTokens: output } : undefined;
}
