import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { RecordBatch } from 'apache-arrow';
import { Context } from '@temporalio/activity';
import { headObject, listObjects, openObjectStream, parseS3Uri, readObjectText } from '../io/s3';
import { readParquetFromS3 } from '../io/parquetRead';
import { type ParquetWriteOptions, writeParquetToS3 } from '../io/parquetWrite';
import { readLineBatches } from '../io/lineSplitter';
import { JoinCounts, estimateBatchBytes, joinBatch } from '../core/join';
import { RecordResult, outputLineParser } from '../core/outputLine';
import { resolveModelAdapter } from '../models/registry';
import { onDemandOutputPrefix, outputFileIndex, outputFileUri, shardPaths } from '../shared/paths';
import { ON_DEMAND_JOB_ID, onDemandBilledTokens } from './onDemandOutputs';
import { pooledRecordIds } from './gatherInput';
import { shardInputFiles } from './shardLookup';
import { ResolvedRun, ShardJob, ShardOutcome } from '../shared/types';
import { shardStatusOf, unansweredReason } from '../core/outcome';
import type { Task } from '../models/types';
import { ActivityDeps } from './deps';
import { jobIdOfArn } from '../shared/jobNames';
import { costOf } from '../core/cost';

export interface CollectShardRequest {
  run: ResolvedRun;
  shardIndex: number;
  attempts: number;
  /** The last job (requests from before `jobs` existed name only this one). */
  jobArn?: string;
  jobStatus?: string;
  /** Every job whose output lines count, in attempt order: a later job answers what earlier ones did not. */
  jobs?: ShardJob[];
  /** Why the last attempt produced no outputs: every row no job answered carries this error. */
  failure?: { code: string; message: string };
  /** The rows were never sent to Bedrock (the budget ran out): the shard is `not_submitted`. */
  notSubmitted?: boolean;
  /** Also read the answers of the shard's small remainder called on demand (answerOnDemand), after every job's. */
  onDemand?: boolean;
}

const HEARTBEAT_EVERY_LINES = 5_000;
const MiB = 1024 * 1024;

/**
 * Bound on one output file, counted in Arrow bytes of the rows it holds (uncompressed: offsets,
 * values, validity). The written size is only known once parquet-wasm has flushed the file (and
 * writeParquetToS3 reports it only at the end), so the bound is applied to what goes in: a file
 * takes whole joined batches (each ≤ 1/8 of the bound) while they fit. The Parquet file is then at
 * most about the bound: embeddings (incompressible floats) come out close to it, text ~2× smaller
 * under SNAPPY. The same data always gives the same file boundaries, so a retry rewrites the same names.
 */
export const OUTPUT_FILE_BYTES = 256 * MiB;
/**
 * Joined batches are cut to about this many Arrow bytes before they reach the writer: every batch
 * is copied to IPC and into wasm memory, so a whole 50,000-row snapshot batch of 1024-d vectors
 * (200 MB) made three 200 MB copies at once.
 */
const JOIN_BATCH_BYTES = 8 * MiB;
/** Rows of the first slice of a shard; later slices follow the bytes per row seen. */
const FIRST_SLICE_ROWS = 64;
/**
 * Row groups: wasm memory peaks at a few times the open row group and never shrinks. Embedding
 * shards also hold their ≤ 50,000 vectors (200 MB at 1024-d) in the JS heap meanwhile, so their
 * row groups are kept smaller.
 */
const EMBEDDING_ROW_GROUP_BYTES = 32 * MiB;
const TEXT_ROW_GROUP_BYTES = 64 * MiB;
/**
 * Writer settings per task (the values users read are the same either way; only the encoding differs).
 * Text: SNAPPY, since postprocessing is CPU-bound and on SimpleCoT-like text ZSTD took 2.7× the CPU
 * of SNAPPY to write (1.5 vs 0.55 s per 55k rows) for files 30% smaller (34 vs 49 MiB). No
 * dictionary: long, mostly unique strings make arrow-rs hash the first MiB of every column chunk
 * before it gives up, ~17% of the text writer's CPU, for files within 1% of the same size.
 * Embeddings: UNCOMPRESSED, since SNAPPY found ~5% in random float32s for ~10% of the writer's CPU;
 * no dictionary (vectors never repeat: hashing the first MiB of floats of every column chunk was
 * ~20% of the writer's CPU); min/max statistics per column chunk only, since page-level ones compare
 * every float again (~20% of the writer's CPU) and nobody filters pages by a vector's components.
 */
const WRITE_OPTIONS = {
  text: { compression: 'snappy', dictionary: false },
  embedding: { compression: 'none', dictionary: false, statistics: 'chunk' },
} as const satisfies Record<Task, Pick<ParquetWriteOptions, 'compression' | 'dictionary' | 'statistics'>>;

export interface CollectShardOptions {
  /** Output file bound (default OUTPUT_FILE_BYTES, or env OUTPUT_FILE_MAX_BYTES); small values for tests. */
  maxFileBytes?: number;
}

/**
 * Reads a finished job's output lines (any order) into a map by record id, then streams the
 * shard's input snapshot through the join into the shard's Parquet files
 * (`output/part-SSSSS-FFF.parquet`, each ≤ maxFileBytes, one schema). Memory is one shard's
 * results (≤ 50,000 records) plus one snapshot batch and one open row group.
 */
export function makeCollectShard(deps: ActivityDeps, opts: CollectShardOptions = {}) {
  const maxFileBytes = opts.maxFileBytes ?? (Number(process.env.OUTPUT_FILE_MAX_BYTES) || OUTPUT_FILE_BYTES);
  // Slices well under the file bound, so files end close to it (a file takes whole batches).
  const sliceBytes = Math.max(1, Math.min(JOIN_BATCH_BYTES, Math.floor(maxFileBytes / 8)));
  async function collectShard(req: CollectShardRequest): Promise<ShardOutcome> {
    const { run, shardIndex } = req;
    const adapter = resolveModelAdapter(run.modelId, run.invocationType);
    const paths = shardPaths(run.runUri, shardIndex);
    const legacyJob = req.jobArn && !req.failure ? [{ attempt: req.attempts, jobArn: req.jobArn, status: req.jobStatus ?? 'Completed' }] : [];
    const jobs: ShardJob[] = req.jobs ?? legacyJob;
    const lastJob = jobs[jobs.length - 1];
    const jobId = lastJob ? jobIdOfArn(lastJob.jobArn) : undefined;
    const results = new Map<string, RecordResult>();
    // Rows answered on demand: their line tokens, taken out of the batch counts when those come from lines.
    const onDemand = { answered: 0, rejected: 0, inputTokens: 0, outputTokens: 0 };
    // This shard's lines of pooled jobs: their manifest bills the whole pool, so the shard's share is counted from its lines.
    const pooledTokens = { inputTokens: 0, outputTokens: 0 };
    async function readResults() {
      const parse = outputLineParser(adapter);
      let lines = 0;
      const readFolder = async (prefix: string, tag: string | undefined, onDemandLines = false, only?: Set<string>) => {
        for await (const object of listObjects(deps.s3, prefix)) {
          if (!object.key.endsWith('.jsonl.out')) continue;
          const { body } = await openObjectStream(deps.s3, object.uri);
          // `reuse`: the parser copies what it keeps (ids, vectors, decoded text) out of each line.
          for await (const batch of readLineBatches(body, { reuse: true })) {
            for (const line of batch) {
              const result = parse(line);
              if (!result) continue;
              // A pooled job answers other shards' records too: they are theirs to collect.
              if (only && !only.has(result.recordId)) continue;
              // An answer stands; a record error is replaced by a later job's line for that record.
              const earlier = results.get(result.recordId);
              if (earlier && earlier.errorCode === undefined) continue;
              if (tag) result.jobId = tag;
              results.set(result.recordId, result);
              if (only) {
                pooledTokens.inputTokens += result.inputTokens ?? 0;
                pooledTokens.outputTokens += result.outputTokens ?? 0;
              }
              if (onDemandLines) {
                if (result.errorCode === undefined) onDemand.answered += 1;
                else onDemand.rejected += 1;
                onDemand.inputTokens += result.inputTokens ?? 0;
                onDemand.outputTokens += result.outputTokens ?? 0;
              }
              if (++lines % HEARTBEAT_EVERY_LINES === 0) Context.current().heartbeat({ lines });
            }
          }
        }
      };
      for (const job of jobs) {
        const id = jobIdOfArn(job.jobArn);
        const only = job.pooled ? await pooledRecordIds(deps.s3, job.pooled.recordsUri) : undefined;
        await readFolder(`${job.pooled?.outputPrefix ?? paths.bedrockOutput}${id}/`, jobs.length > 1 ? id : undefined, false, only);
      }
      // On-demand answers come last: they fill what no job answered, as a later attempt's would.
      if (req.onDemand) await readFolder(onDemandOutputPrefix(run.runUri, shardIndex), ON_DEMAND_JOB_ID, true);
    }
    const unanswered = req.failure ?? unansweredReason(lastJob, req.attempts, run.maxJobAttempts);
    // The snapshot's first batch is fetched and decoded while the output lines stream in, so the
    // two S3 waits overlap.
    const inputFiles = await shardInputFiles(deps.s3, run, shardIndex);
    const snapshots = readParquetFromS3(deps.s3, inputFiles.snapshot);
    const firstSnapshot = snapshots.next();
    firstSnapshot.catch(() => undefined);
    try {
      await readResults();
      // Rows preprocessing kept out of every job carry its reason (not MISSING_OUTPUT or the job's fate).
      if (inputFiles.skipped) await readRejected(inputFiles.skipped, results);
    } catch (err) {
      snapshots.return(undefined).catch(() => undefined);
      throw err;
    }
    const counts: JoinCounts = { rows: 0, succeeded: 0, failed: 0, recordErrors: 0, unanswered: 0, inputTokens: 0, outputTokens: 0 };
    // Joined batches of ≤ sliceBytes, tagged with their size; one iterator shared by the files.
    const joined = (async function* (): AsyncGenerator<{ batch: RecordBatch; bytes: number }> {
      let sliceRows = FIRST_SLICE_ROWS;
      try {
        for (let next = await firstSnapshot; !next.done; next = await snapshots.next()) {
          const snapshot = next.value;
          if (snapshot.numRows === 0) {
            yield { batch: joinBatch(snapshot, results, run.task, jobId, counts, unanswered), bytes: 0 };
            continue;
          }
          for (let start = 0; start < snapshot.numRows; ) {
            const end = Math.min(snapshot.numRows, start + sliceRows);
            const batch = joinBatch(start === 0 && end === snapshot.numRows ? snapshot : snapshot.slice(start, end), results, run.task, jobId, counts, unanswered);
            const bytes = estimateBatchBytes(batch);
            start = end;
            // Rows per slice follow the bytes per row seen so far (text answers and vectors vary).
            sliceRows = Math.max(1, Math.min(65_536, Math.floor((sliceBytes * batch.numRows) / Math.max(1, bytes))));
            yield { batch, bytes };
          }
          Context.current().heartbeat({ rows: counts.rows });
        }
      } finally {
        await snapshots.return(undefined);
      }
    })();
    const files = await writeOutputFiles(run.runUri, shardIndex, run.task, joined);
    // The manifests are what Bedrock bills, and the only token count for families whose records carry none.
    const billed = await readBilledTokens(deps, paths.bedrockOutput, jobs.filter((job) => !job.pooled));
    if (billed) {
      counts.inputTokens = billed.inputTokens + pooledTokens.inputTokens;
      counts.outputTokens = billed.outputTokens + pooledTokens.outputTokens;
    }
    else {
      // Counted from lines: the on-demand rows' tokens are billed apart, at the on-demand price.
      counts.inputTokens -= onDemand.inputTokens;
      counts.outputTokens -= onDemand.outputTokens;
    }
    const onDemandBilled = req.onDemand ? await onDemandBilledTokens(deps.s3, onDemandOutputPrefix(run.runUri, shardIndex)) : undefined;
    const status = shardStatusOf(counts, req.notSubmitted);
    return {
      shardIndex,
      status,
      jobArn: lastJob?.jobArn ?? req.jobArn,
      jobStatus: lastJob?.status ?? req.jobStatus,
      attempts: req.attempts,
      partUri: files[0].uri,
      message: shardMessage(req.failure?.message ?? (counts.unanswered > 0 ? `${counts.unanswered} of ${counts.rows} rows: ${unanswered.message}` : undefined), inputFiles.rejected),
      ...counts,
      files,
      jobs,
      ...(req.onDemand ? { onDemand: { answered: onDemand.answered, rejected: onDemand.rejected, ...(onDemandBilled ?? onDemand) } } : {}),
      batchCostUsd: costOf(deps.prices, run.modelId, counts.inputTokens, counts.outputTokens).batchCost,
    };
  }

  /**
   * Writes the joined batches into files of at most maxFileBytes (by the batches' Arrow bytes),
   * every one with the output schema, then deletes this shard's files that an earlier attempt
   * left beyond the last one written (a retry with fewer files, or the old one-file name).
   * File boundaries depend only on the data, so a retry rewrites the same names.
   */
  async function writeOutputFiles(runUri: string, shardIndex: number, task: Task, joined: AsyncGenerator<{ batch: RecordBatch; bytes: number }>) {
    try {
      return await writeFiles(runUri, shardIndex, task, joined);
    } finally {
      // Releases the snapshot reader when a write failed half way; not awaited (see parquetWrite).
      joined.return(undefined).catch(() => undefined);
    }
  }

  async function writeFiles(runUri: string, shardIndex: number, task: Task, joined: AsyncGenerator<{ batch: RecordBatch; bytes: number }>) {
    const files: Array<{ uri: string; rows: number; bytes: number }> = [];
    let carry = await joined.next();
    const schema = carry.done ? undefined : carry.value.batch.schema;
    if (!schema) throw new Error(`shard ${shardIndex}: the input snapshot yielded no batch`);
    while (files.length === 0 || !carry.done) {
      let fileBytes = 0;
      const batches = (async function* () {
        while (!carry.done) {
          const { batch, bytes } = carry.value;
          // A file holds at least one batch; the next batch that would overflow it starts a new one.
          if (fileBytes > 0 && fileBytes + bytes > maxFileBytes) return;
          fileBytes += bytes;
          yield batch;
          carry = await joined.next();
        }
      })();
      const uri = outputFileUri(runUri, shardIndex, files.length);
      const written = await writeParquetToS3(deps.s3, uri, batches, {
        ...WRITE_OPTIONS[task],
        maxRowGroupBytes: task === 'embedding' ? EMBEDDING_ROW_GROUP_BYTES : TEXT_ROW_GROUP_BYTES,
        schema,
      });
      files.push({ uri, rows: written.rows, bytes: written.bytes });
    }
    await deleteStaleFiles(runUri, shardIndex, files.length);
    return files;
  }

  async function deleteStaleFiles(runUri: string, shardIndex: number, kept: number): Promise<void> {
    const prefix = outputFileUri(runUri, shardIndex, 0).replace(/-\d+\.parquet$/, '');
    for await (const object of listObjects(deps.s3, prefix)) {
      const parsed = outputFileIndex(object.key);
      if (!parsed || parsed.shardIndex !== shardIndex) continue;
      if (parsed.file !== undefined && parsed.file < kept) continue;
      const { bucket, key } = parseS3Uri(object.uri);
      await deps.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    }
  }

  /**
   * Writes the rows of shards that were never submitted (the budget ran out) with the reason,
   * so the output still has every input row. One activity for the whole range keeps history small.
   */
  async function writeUnsubmittedShards(req: { run: ResolvedRun; from: number; to: number; failure: { code: string; message: string } }) {
    const total = { rows: 0, failed: 0 };
    for (let shardIndex = req.from; shardIndex < req.to; shardIndex++) {
      const outcome = await collectShard({ run: req.run, shardIndex, attempts: 0, failure: req.failure, notSubmitted: true });
      total.rows += outcome.rows;
      total.failed += outcome.failed;
      Context.current().heartbeat({ shardIndex });
    }
    return total;
  }

  /** The shard's sidecar of records kept out of its jobs, as record errors (one per record: a line repeated by a retried write counts once). */
  async function readRejected(uri: string, results: Map<string, RecordResult>): Promise<void> {
    for (const line of (await readObjectText(deps.s3, uri)).split('\n')) {
      if (!line) continue;
      const r = JSON.parse(line) as { recordId: string; code: string; message: string };
      if (!results.has(r.recordId)) results.set(r.recordId, { recordId: r.recordId, errorCode: r.code, errorMessage: r.message });
    }
  }

  return { collectShard, writeUnsubmittedShards };
}

function shardMessage(message: string | undefined, rejected: number | undefined): string | undefined {
  if (!rejected) return message;
  const note = `${rejected} row(s) kept out of the job as RECORD_TOO_LARGE`;
  return message ? `${message}; ${note}` : note;
}

/** Tokens billed across the shard's jobs, from their manifests; undefined when any job has none (token counts then come from the lines). */
async function readBilledTokens(deps: ActivityDeps, bedrockOutput: string, jobs: ShardJob[]): Promise<{ inputTokens: number; outputTokens: number } | undefined> {
  if (!jobs.length) return undefined;
  const total = { inputTokens: 0, outputTokens: 0 };
  for (const job of jobs) {
    const billed = await readManifestTokens(deps, `${bedrockOutput}${jobIdOfArn(job.jobArn)}/manifest.json.out`);
    if (!billed) return undefined;
    total.inputTokens += billed.inputTokens;
    total.outputTokens += billed.outputTokens;
  }
  return total;
}

async function readManifestTokens(deps: ActivityDeps, uri: string): Promise<{ inputTokens: number; outputTokens: number } | undefined> {
  if (!(await headObject(deps.s3, uri))) return undefined;
  const manifest = JSON.parse(await readObjectText(deps.s3, uri)) as { inputTokenCount?: unknown; outputTokenCount?: unknown };
  const input = manifest.inputTokenCount;
  const output = manifest.outputTokenCount;
  return typeof input === 'number' && typeof output === 'number' ? { inputTokens: input, outputTokens: output } : undefined;
}
