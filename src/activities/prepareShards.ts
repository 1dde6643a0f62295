import { Context } from '@temporalio/activity';
import type { Schema } from 'apache-arrow';
import { writeObject } from '../io/s3';
import { estimateRun } from '../core/estimate';
import { ShardSink } from '../core/shardPlan';
import { maxOutputTokens, resolveModelAdapter } from '../models/registry';
import { runFiles, shardPaths } from '../shared/paths';
import { PreparedShards, ResolvedRun } from '../shared/types';
import { ScannedRecord, scanDataset } from './datasetScan';
import { ActivityDeps } from './deps';
import { failingFast } from './failures';
import { ShardFileSink } from './shardFiles';

/** Adds up each shard's input tokens on the way to another sink (or to none, for an estimate). */
export class ShardTokenTally implements ShardSink<ScannedRecord> {
  readonly tokens: number[] = [];
  constructor(private readonly inner?: ShardSink<ScannedRecord>) {}
  async write(shard: number, item: ScannedRecord): Promise<void> {
    this.tokens[shard] = (this.tokens[shard] ?? 0) + item.inputTokens;
    await this.inner?.write(shard, item);
  }
  async close(shard: number): Promise<void> {
    await this.inner?.close(shard);
  }
}

/**
 * Streams the dataset once: renders each row into the model's request body, cuts the records
 * into Bedrock-sized shards, and writes each shard's JSONL and input snapshot to S3. Returns
 * counts, the cost estimate and a reference to the shard manifest, never rows. Re-running it
 * rewrites the same files with the same record ids, so a retry after a crash is safe.
 */
export function makePrepareShards(deps: ActivityDeps) {
  return async function prepareShards(run: ResolvedRun): Promise<PreparedShards> {
    return failingFast(async () => {
      let files: ShardFileSink | undefined;
      let tally: ShardTokenTally | undefined;
      const sinkFor = (schema: Schema) => {
        files = new ShardFileSink(deps.s3, run.runUri, schema);
        tally = new ShardTokenTally(files);
        return tally;
      };
      let scan;
      try {
        scan = await scanDataset(deps, run, sinkFor, { onProgress: (rows) => Context.current().heartbeat({ rows }) });
      } catch (err) {
        await files?.abort(err);
        throw err;
      }
      const adapter = resolveModelAdapter(run.modelId, run.invocationType);
      const estimate = estimateRun(run.modelId, deps.prices, scan.shards, tally!.tokens, maxOutputTokens(adapter, run.modelParams), scan.tokenizer);
      const manifest = {
        runKey: run.runKey,
        inputUri: run.inputUri,
        rowCount: scan.rowCount,
        columns: scan.schema.fields.map((f) => f.name),
        estimate,
        shards: scan.shards.map((s) => {
          const paths = shardPaths(run.runUri, s.index);
          return { ...s, jsonlUri: paths.jsonl, snapshotUri: paths.snapshot };
        }),
      };
      const shardManifestUri = runFiles(run.runUri).shardManifest;
      await writeObject(deps.s3, shardManifestUri, JSON.stringify(manifest, null, 1), 'application/json');
      const { shards, ...totals } = estimate;
      return {
        rowCount: scan.rowCount,
        shardCount: scan.shards.length,
        shardManifestUri,
        estimate: totals,
        shardCosts: shards.map((s) => s.batchCostMax),
      };
    });
  };
}
