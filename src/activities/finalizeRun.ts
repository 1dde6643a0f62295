import { ApplicationFailure } from '@temporalio/common';
import { headObject, listObjects, readObjectText, s3RangeBlob, writeObject } from '../io/s3';
import { readParquetInfo } from '../io/parquetRead';
import type { Schema } from 'apache-arrow';
import { resultFields } from '../core/outputSchema';
import { CostReport, costOf } from '../core/cost';
import { MAX_SHARDS_LISTED, runOutcome } from '../core/outcome';
import { outputFileIndex, runFiles } from '../shared/paths';
import { BudgetStop, PreparedShards, ResolvedRun, RunSummary, RunTotals } from '../shared/types';
import { ActivityDeps } from './deps';
import { progressHeartbeat } from './heartbeat';

export interface FinalizeRunRequest {
  run: ResolvedRun;
  prepared: PreparedShards;
  totals: RunTotals;
  budget?: BudgetStop;
}

/**
 * Checks the output holds exactly one row per input row, shard by shard (against the records
 * each shard was cut with), and fails naming the shards that do not.
 */
async function checkOutputRows(deps: ActivityDeps, shardManifestUri: string, rowsByShard: Map<number, number>, rowCount: number): Promise<{ rejected: number }> {
  const found = [...rowsByShard.values()].reduce((n, r) => n + r, 0);
  const wrong: string[] = [];
  // Rows preprocessing kept out of every job (RECORD_TOO_LARGE): counted from the manifest, where parts recorded them.
  let rejected = 0;
  if (await headObject(deps.s3, shardManifestUri)) {
    const manifest = JSON.parse(await readObjectText(deps.s3, shardManifestUri)) as { shards: Array<{ index?: number; records?: number; rejected?: number }> };
    manifest.shards.forEach((shard, i) => {
      rejected += shard.rejected ?? 0;
      const got = rowsByShard.get(shard.index ?? i) ?? 0;
      if (shard.records !== undefined && got !== shard.records) wrong.push(`shard ${shard.index ?? i}: ${got} of ${shard.records} rows`);
    });
  }
  if (found === rowCount && wrong.length === 0) return { rejected };
  const named = wrong.length ? `: ${wrong.slice(0, MAX_SHARDS_LISTED).join('; ')}${wrong.length > MAX_SHARDS_LISTED ? `; and ${wrong.length - MAX_SHARDS_LISTED} more` : ''}` : '';
  throw ApplicationFailure.create({
    type: 'OutputIncomplete',
    nonRetryable: true,
    message: `the output holds ${found} rows for ${rowCount} input rows${named}`,
  });
}

/** Lists the run's Parquet parts in a manifest and writes the run summary beside them. */
export function makeFinalizeRun(deps: ActivityDeps) {
  return async function finalizeRun({ run, prepared, totals, budget }: FinalizeRunRequest): Promise<RunSummary> {
    const heartbeat = progressHeartbeat();
    const files = runFiles(run.runUri);
    const parts: Array<{ uri: string; bytes: number; rows: number }> = [];
    const rowsByShard = new Map<number, number>();
    let schema: ManifestColumn[] | undefined;
    for await (const object of listObjects(deps.s3, files.outputDir)) {
      if (!object.key.endsWith('.parquet')) continue;
      const info = await readParquetInfo(s3RangeBlob(deps.s3, object.uri, object.size));
      heartbeat({ files: parts.length });
      parts.push({ uri: object.uri, bytes: object.size, rows: info.numRows });
      const shard = outputFileIndex(object.key)?.shardIndex;
      if (shard !== undefined) rowsByShard.set(shard, (rowsByShard.get(shard) ?? 0) + info.numRows);
      // Every file of a run has one schema (collectShard writes each with the run's output schema).
      const columns = manifestColumns(info.schema);
      if (!schema) schema = columns;
      else if (JSON.stringify(columns) !== JSON.stringify(schema)) {
        throw new Error(`output file ${object.uri} has schema ${JSON.stringify(columns)}, other files ${JSON.stringify(schema)}`);
      }
    }
    parts.sort((a, b) => (a.uri < b.uri ? -1 : 1));
    const { rejected } = await checkOutputRows(deps, prepared.shardManifestUri, rowsByShard, prepared.rowCount);
    const { outcome, reason } = runOutcome(totals, prepared.rowCount);
    const summary: RunSummary = {
      outcome,
      outcomeReason: reason,
      runKey: run.runKey,
      inputUri: run.inputUri,
      modelId: run.modelId,
      task: run.task,
      shards: prepared.shardCount,
      rows: totals.rows,
      succeeded: totals.succeeded,
      failed: totals.failed,
      inputTokens: totals.inputTokens,
      outputTokens: totals.outputTokens,
      cost: costOf(deps.prices, run.modelId, totals.inputTokens, totals.outputTokens),
      ...(totals.onDemand ? { onDemand: { ...totals.onDemand, cost: onDemandCost(deps, run.modelId, totals.onDemand) } } : {}),
      estimate: prepared.estimate,
      ...(budget ? { budget } : {}),
      outputUris: parts.map((p) => p.uri),
      manifestUri: files.manifest,
      summaryUri: files.summary,
      failedShards: totals.failedShards,
      partialShards: totals.partialShards ?? [],
      shardsByStatus: {
        succeeded: totals.shardsSucceeded ?? 0,
        partial: totals.shardsPartial ?? 0,
        failed: totals.shardsFailed,
        not_submitted: totals.shardsNotSubmitted ?? 0,
      },
      recordErrors: totals.recordErrors ?? 0,
      unanswered: totals.unanswered ?? 0,
      rejectedBeforeSubmit: rejected,
    };
    const manifest = {
      runKey: run.runKey,
      rowCount: parts.reduce((n, p) => n + p.rows, 0),
      columns: [...run.columns, ...resultFields(run.task).map((f) => f.name)],
      /** Column names, Arrow types and nullability, the same in every file. */
      schema: schema ?? [],
      files: parts,
    };
    await writeObject(deps.s3, files.manifest, JSON.stringify(manifest, null, 1), 'application/json');
    await writeObject(deps.s3, files.summary, JSON.stringify(summary, null, 1), 'application/json');
    return summary;
  };
}

/** The on-demand calls' bill: the price table's own (on-demand) rate, with no batch figure beside it to mislead. */
function onDemandCost(deps: ActivityDeps, modelId: string, tokens: { inputTokens: number; outputTokens: number }): CostReport {
  const { batchCost: _, ...report } = costOf(deps.prices, modelId, tokens.inputTokens, tokens.outputTokens);
  return report;
}

export interface ManifestColumn {
  name: string;
  /** Arrow type as apache-arrow prints it: Utf8, Int32, Float64, List<Float32>, … */
  type: string;
  nullable: boolean;
}

export function manifestColumns(schema: Schema): ManifestColumn[] {
  return schema.fields.map((f) => ({ name: f.name, type: String(f.type), nullable: f.nullable }));
}
