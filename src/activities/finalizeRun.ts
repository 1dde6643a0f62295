import { listObjects, s3RangeBlob, writeObject } from '../io/s3';
import { parquetRowCount } from '../io/parquetRead';
import { resultFields } from '../core/outputSchema';
import { costOf } from '../core/cost';
import { runFiles } from '../shared/paths';
import { BudgetStop, PreparedShards, ResolvedRun, RunSummary, RunTotals } from '../shared/types';
import { ActivityDeps } from './deps';

export interface FinalizeRunRequest {
  run: ResolvedRun;
  prepared: PreparedShards;
  totals: RunTotals;
  budget?: BudgetStop;
}

/** Lists the run's Parquet parts in a manifest and writes the run summary beside them. */
export function makeFinalizeRun(deps: ActivityDeps) {
  return async function finalizeRun({ run, prepared, totals, budget }: FinalizeRunRequest): Promise<RunSummary> {
    const files = runFiles(run.runUri);
    const parts: Array<{ uri: string; bytes: number; rows: number }> = [];
    for await (const object of listObjects(deps.s3, files.outputDir)) {
      if (!object.key.endsWith('.parquet')) continue;
      parts.push({ uri: object.uri, bytes: object.size, rows: await parquetRowCount(s3RangeBlob(deps.s3, object.uri, object.size)) });
    }
    parts.sort((a, b) => (a.uri < b.uri ? -1 : 1));
    const summary: RunSummary = {
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
      estimate: prepared.estimate,
      ...(budget ? { budget } : {}),
      outputUris: parts.map((p) => p.uri),
      manifestUri: files.manifest,
      summaryUri: files.summary,
      failedShards: totals.failedShards,
    };
    const manifest = {
      runKey: run.runKey,
      rowCount: parts.reduce((n, p) => n + p.rows, 0),
      columns: [...run.columns, ...resultFields(run.task).map((f) => f.name)],
      files: parts,
    };
    await writeObject(deps.s3, files.manifest, JSON.stringify(manifest, null, 1), 'application/json');
    await writeObject(deps.s3, files.summary, JSON.stringify(summary, null, 1), 'application/json');
    return summary;
  };
}
