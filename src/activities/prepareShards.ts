import { Context } from '@temporalio/activity';
import { openObjectStream, writeObject } from '../io/s3';
import { openCsv } from '../io/csv';
import { compileTemplate } from '../core/template';
import { recordIdForRow } from '../core/recordId';
import { BEDROCK_LIMITS, ShardSequencer } from '../core/shardPlan';
import { resolveModelAdapter } from '../models/registry';
import { runFiles, shardPaths } from '../shared/paths';
import { PreparedShards, ResolvedRun } from '../shared/types';
import { ActivityDeps } from './deps';
import { InputError, failingFast } from './failures';
import { ShardFileSink, ShardItem } from './shardFiles';

const HEARTBEAT_EVERY_ROWS = 5_000;

/**
 * Streams the dataset once: renders each row into the model's request body, cuts the records
 * into Bedrock-sized shards, and writes each shard's JSONL and input snapshot to S3. Returns
 * counts and a reference to the shard manifest, never rows. Re-running it rewrites the same
 * files with the same record ids, so a retry after a crash is safe.
 */
export function makePrepareShards(deps: ActivityDeps) {
  return async function prepareShards(run: ResolvedRun): Promise<PreparedShards> {
    return failingFast(async () => {
      const adapter = resolveModelAdapter(run.modelId);
      const object = await openObjectStream(deps.s3, run.inputUri);
      if (object.eTag !== run.inputETag) {
        object.body.destroy();
        throw new InputError('InputChangedError', `${run.inputUri} changed since the run started (ETag ${run.inputETag} → ${object.eTag}); start a new run`);
      }
      const { columns, rows } = await openCsv(object.body, run.inputUri);
      const render =
        run.task === 'text'
          ? compileTemplate(run.template!, columns)
          : ((index: number) => (row: ReadonlyArray<string>) => row[index])(columns.indexOf(run.textColumn!));

      const sink = new ShardFileSink(deps.s3, run.runUri, columns);
      const sequencer = new ShardSequencer<ShardItem>({ ...BEDROCK_LIMITS, maxRecords: run.maxRecordsPerJob }, sink);
      let rowIndex = 0;
      try {
        for await (const row of rows) {
          const recordId = recordIdForRow(rowIndex);
          const line = `${JSON.stringify({ recordId, modelInput: adapter.buildRequest(render(row), run.modelParams) })}\n`;
          await sequencer.push({ recordId, line, row }, Buffer.byteLength(line));
          rowIndex += 1;
          if (rowIndex % HEARTBEAT_EVERY_ROWS === 0) Context.current().heartbeat({ rows: rowIndex });
        }
        const shards = await sequencer.finish();
        const manifest = {
          runKey: run.runKey,
          inputUri: run.inputUri,
          rowCount: rowIndex,
          columns,
          shards: shards.map((s) => ({ ...s, ...pick(shardPaths(run.runUri, s.index)) })),
        };
        const shardManifestUri = runFiles(run.runUri).shardManifest;
        await writeObject(deps.s3, shardManifestUri, JSON.stringify(manifest, null, 1), 'application/json');
        return { rowCount: rowIndex, shardCount: shards.length, shardManifestUri };
      } catch (err) {
        await sink.abort(err);
        throw err;
      }
    });
  };
}

function pick(paths: ReturnType<typeof shardPaths>) {
  return { jsonlUri: paths.jsonl, snapshotUri: paths.snapshot };
}
