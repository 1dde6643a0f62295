import { Context } from '@temporalio/activity';
import type { Schema } from 'apache-arrow';
import type { DatasetClients } from '../io/dataset';
import { readObjectText, writeObject } from '../io/s3';
import { countWholeRows, openSourcePart, planSourceParts } from '../io/inputParts';
import { BEDROCK_LIMITS, EvenSplit, ShardSink, planShards, shardSizesFrom } from '../core/shardPlan';
import { estimateRun } from '../core/estimate';
import { DEFAULT_PART_BYTES } from '../core/runConfig';
import { maxOutputTokens, resolveModelAdapter } from '../models/registry';
import { partManifestUri, partProgressUri, partShardPaths, runFiles } from '../shared/paths';
import { InputPart, PreparePlan, PreparedPart, PreparedShards, ResolvedRun } from '../shared/types';
import { ScanOptions, ScanResult, ScannedRecord, checkSameInput, scanRows } from './datasetScan';
import { ActivityDeps } from './deps';
import { preparePartInThread } from './partThreads';
import { failingFast } from './failures';
import { fullRun } from './runFile';
import { progressHeartbeat } from './heartbeat';
import { ShardFileSink } from './shardFiles';
import { PartCheckpoint, PartProgress, PartShard, resumedShards } from './partCheckpoint';

export type { PartProgress, PartShard } from './partCheckpoint';

const HEARTBEAT_EVERY_MS = 5000;
/** Progress heartbeats closer together than this are dropped (the scan reports every chunk). */

interface PartManifest {
  part: number;
  firstRow: number;
  rows: number;
  columns: string[];
  tokenizer: ScanResult['tokenizer'];
  shards: PartShard[];
}

/** The entry of one shard in the run's shard manifest (`shards.json`). */
export interface ShardManifestEntry extends PartShard {
  index: number;
  part?: number;
}

/** Records each finished shard (counts, tokens, files) in the part's checkpoint. */
class PartShardRecorder implements ShardSink<ScannedRecord> {
  private current?: PartShard;
  constructor(
    private readonly inner: ShardSink<ScannedRecord>,
    private readonly pathsOf: (shard: number) => { jsonl: string; snapshot: string; skipped?: string },
    private readonly checkpoint: PartCheckpoint,
  ) {}

  async write(shard: number, item: ScannedRecord): Promise<void> {
    if (!this.current) {
      const paths = this.pathsOf(shard);
      this.current = { records: 0, bytes: 0, inputTokens: 0, jsonlUri: paths.jsonl, snapshotUri: paths.snapshot };
    }
    this.current.records += 1;
    if (item.rejected) {
      this.current.rejected = (this.current.rejected ?? 0) + 1;
      this.current.skippedUri = this.pathsOf(shard).skipped;
    }
    this.current.bytes += item.bytes;
    this.current.inputTokens += item.inputTokens;
    await this.inner.write(shard, item);
  }

  async close(shard: number): Promise<void> {
    await this.inner.close(shard);
    const finished = this.current;
    this.current = undefined;
    if (finished) this.checkpoint.add(finished);
  }
}

function tokenizerOf(manifests: PartManifest[]): ScanResult['tokenizer'] {
  const first = manifests[0].tokenizer;
  return { ...first, exact: manifests.every((m) => m.tokenizer.exact) };
}

function shardLimits(run: ResolvedRun) {
  return { ...BEDROCK_LIMITS, maxRecords: run.maxRecordsPerJob };
}

/**
 * The input's parts for this run: its shards planned from its row count, grouped into parts (fails
 * on a changed input, or on a row count no shards can hold). `onProgress` gets a CSV scan's bytes.
 */
export async function planRunParts(deps: DatasetClients, run: ResolvedRun, onProgress?: (scannedBytes: number) => void): Promise<PreparePlan> {
  const limits = { ...shardLimits(run), partBytes: run.partBytes ?? DEFAULT_PART_BYTES, maxRows: run.maxRecords };
  const { eTag, ...plan } = await planSourceParts(deps, run.source, limits, onProgress);
  checkSameInput(run, eTag);
  return plan;
}

/**
 * A part's shards: those the run planned for it; for a part read whole, planned from its rows,
 * counted first. (Parts planned before shards were planned run-wide split their own rows.)
 */
async function partShards(deps: DatasetClients, run: ResolvedRun, part: InputPart): Promise<EvenSplit> {
  if (part.kind !== 'whole' && part.plannedShards !== undefined) return { records: part.rows, shards: part.plannedShards };
  const rows = part.rows ?? (await countWholeRows(deps, run.source, { maxRows: run.maxRecords, eTag: run.inputETag }));
  return planShards(rows, shardLimits(run));
}

/** One part's rows from `skipRows` on, rendered and cut into its shards for `sink` (files, or a tally for the estimate). */
export async function scanPart(
  deps: DatasetClients,
  run: ResolvedRun,
  part: InputPart,
  sinkFor: (schema: Schema) => ShardSink<ScannedRecord>,
  opts: ScanOptions & { skipRows?: number } = {},
): Promise<ScanResult> {
  const skipRows = opts.skipRows ?? 0;
  const split = await partShards(deps, run, part);
  const opened = await openSourcePart(deps, run.source, part, run.columns, skipRows);
  checkSameInput(run, opened.eTag);
  return scanRows(run, opened.schema, opened.rows, sinkFor(opened.schema), {
    ...opts,
    firstRow: part.firstRow + skipRows,
    shards: shardSizesFrom(split, skipRows),
    // A trial stops reading here; otherwise a row past the plan is an error, not dropped.
    maxRows: run.maxRecords === undefined ? undefined : split.records - skipRows,
  });
}

export interface PartFileOptions {
  /** How often at most the part's checkpoint is rewritten (default CHECKPOINT_EVERY_MS). */
  checkpointEveryMs?: number;
}

/**
 * One part into shard files, resuming after the shards in `resume` (a retry's: the first entries of
 * the part's checkpoint, see `resumedShards`). Finished shards go to the checkpoint every few
 * seconds; `heartbeat` gets a reference to it and counts only.
 */
export async function preparePartFiles(
  deps: DatasetClients,
  run: ResolvedRun,
  part: InputPart,
  resume: PartShard[],
  heartbeat: (progress: PartProgress) => void,
  opts: PartFileOptions = {},
): Promise<PreparedPart> {
  const skipRows = resume.reduce((n, s) => n + s.records, 0);
  const pathsOf = (shard: number) => partShardPaths(run.runUri, part.index, resume.length + shard);
  const checkpoint = new PartCheckpoint(deps.s3, partProgressUri(run.runUri, part.index), part.index, resume, heartbeat, opts.checkpointEveryMs);
  let files: ShardFileSink | undefined;
  const sinkFor = (schema: Schema) => {
    files = new ShardFileSink(deps.s3, schema, pathsOf);
    return new PartShardRecorder(files, pathsOf, checkpoint);
  };
  let scan: ScanResult;
  try {
    scan = await scanPart(deps, run, part, sinkFor, { skipRows, onProgress: (rows) => checkpoint.setRows(skipRows + rows) });
  } catch (err) {
    await files?.abort(err);
    await checkpoint.settle().catch(() => undefined);
    throw err;
  }
  await checkpoint.settle();
  const shards = checkpoint.shards;
  const manifest: PartManifest = {
    part: part.index,
    firstRow: part.firstRow,
    rows: skipRows + scan.rowCount,
    columns: scan.schema.fields.map((f) => f.name),
    tokenizer: scan.tokenizer,
    shards,
  };
  const manifestUri = partManifestUri(run.runUri, part.index);
  await writeObject(deps.s3, manifestUri, JSON.stringify(manifest), 'application/json');
  return { part: part.index, rows: manifest.rows, shards: shards.length, manifestUri };
}

/**
 * Preprocessing in parts: `planPreparation` cuts the input (row groups, CSV byte ranges),
 * `preparePart` turns one part into shard files (several run at once, on any workers), and
 * `combineParts` numbers the shards run-wide, prices them and writes the shard manifest.
 */
export function makePrepareParts(deps: ActivityDeps) {
  async function planPreparation(slim: ResolvedRun): Promise<PreparePlan> {
    const heartbeat = progressHeartbeat();
    heartbeat({ scannedBytes: 0 });
    return failingFast(async () => planRunParts(deps, await fullRun(deps, slim), (scannedBytes) => heartbeat({ scannedBytes })));
  }

  async function preparePart({ run: slim, part }: { run: ResolvedRun; part: InputPart }): Promise<PreparedPart> {
    return failingFast(async () => {
      const run = await fullRun(deps, slim);
      const ctx = Context.current();
      const progressUri = partProgressUri(run.runUri, part.index);
      const resume = await resumedShards(deps.s3, progressUri, part.index, ctx.info.heartbeatDetails);
      // Progress comes every few thousand rows; with very long rows that can be slower than the
      // heartbeat timeout, so the latest progress is also repeated on a clock.
      let latest: PartProgress = { progressUri, shardsDone: resume.length, rows: resume.reduce((n, s) => n + s.records, 0) };
      const heartbeat = (progress: PartProgress) => {
        latest = progress;
        ctx.heartbeat(progress);
      };
      // At once: a retry's details (an older worker's inline entries, now checkpointed) give way to a reference.
      heartbeat(latest);
      const timer = setInterval(() => ctx.heartbeat(latest), HEARTBEAT_EVERY_MS);
      try {
        if (deps.threads) return await preparePartInThread({ ...deps.threads, hub: deps.hub }, { run, part, resume }, heartbeat, ctx.cancellationSignal);
        return await preparePartFiles(deps, run, part, resume, heartbeat);
      } finally {
        clearInterval(timer);
      }
    });
  }

  async function combineParts({ run, parts }: { run: ResolvedRun; parts: PreparedPart[] }): Promise<PreparedShards> {
    return failingFast(async () => {
      const heartbeat = progressHeartbeat();
      const manifests: PartManifest[] = [];
      for (const p of [...parts].sort((a, b) => a.part - b.part)) {
        manifests.push(JSON.parse(await readObjectText(deps.s3, p.manifestUri)) as PartManifest);
        heartbeat({ manifestsRead: manifests.length });
      }
      const shards: ShardManifestEntry[] = manifests.flatMap((m) => m.shards.map((s) => ({ ...s, part: m.part }))).map((s, index) => ({ index, ...s }));
      const adapter = resolveModelAdapter(run.modelId, run.invocationType);
      const estimate = estimateRun(
        run.modelId,
        deps.prices,
        shards,
        shards.map((s) => s.inputTokens),
        maxOutputTokens(adapter, run.modelParams),
        tokenizerOf(manifests),
      );
      const rowCount = manifests.reduce((n, m) => n + m.rows, 0);
      const manifest = { runKey: run.runKey, inputUri: run.inputUri, rowCount, columns: manifests[0].columns, estimate, shards };
      const shardManifestUri = runFiles(run.runUri).shardManifest;
      await writeObject(deps.s3, shardManifestUri, JSON.stringify(manifest, null, 1), 'application/json');
      const { shards: perShard, ...totals } = estimate;
      return { rowCount, shardCount: shards.length, shardManifestUri, estimate: totals, shardCosts: perShard.map((s) => s.batchCostMax) };
    });
  }

  /**
   * The three steps in one activity, for runs whose history already holds a `prepareShards` call
   * (started before preprocessing was split): parts run one after another here.
   */
  async function prepareShards(run: ResolvedRun): Promise<PreparedShards> {
    const plan = await planPreparation(run);
    const parts: PreparedPart[] = [];
    for (const part of plan.parts) {
      const heartbeat = (progress: PartProgress) => Context.current().heartbeat({ part: part.index, rows: progress.rows });
      parts.push(await failingFast(() => preparePartFiles(deps, run, part, [], heartbeat)));
    }
    return combineParts({ run, parts });
  }

  return { planPreparation, preparePart, combineParts, prepareShards };
}
