import { Context, asyncLocalStorage } from '@temporalio/activity';
import { Field, Int32, Schema, Utf8, vectorFromArray } from 'apache-arrow';
import { makeCollectShard } from '../../src/activities/collectShard';
import { ActivityDeps } from '../../src/activities/deps';
import { makeFinalizeRun } from '../../src/activities/finalizeRun';
import { loadPriceTable, loadRunDefaults } from '../../src/config';
import { recordBatchOf, utf8Data } from '../../src/io/arrowColumns';
import { writeParquetToS3 } from '../../src/io/parquetWrite';
import { readObjectText, writeObject } from '../../src/io/s3';
import { outputFileIndex, runFiles, shardPaths } from '../../src/shared/paths';
import { PreparedShards, ResolvedRun, RunTotals } from '../../src/shared/types';
import { listKeys, readRunOutput } from '../support/output';
import { readWithPyarrow } from '../support/pyarrow';
import { MotoS3, startMotoS3 } from './helpers';

// collectShard and finalizeRun on moto, without a workflow: a Titan V2 shard (64-d vectors) whose
// output file is cut by a small bound into several Parquet files.
const BUCKET = 'collect';
const RUN_URI = `s3://${BUCKET}/out/run-1`;
const ROWS = 400;
const DIMS = 64;
const JOB_ID = 'job0000abc01';
const JOB_ARN = `arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/${JOB_ID}`;
const FILE_BYTES = 40_000; // ~330 B of vector + ~60 B of other columns a row: ~4 files for 400 rows

let moto: MotoS3 & { stop(): Promise<void> };
let deps: ActivityDeps;

const run = {
  runKey: 'run-1',
  runName: 'collect',
  task: 'embedding',
  inputUri: 's3://collect/in.csv',
  modelId: 'amazon.titan-embed-text-v2:0',
  invocationType: 'InvokeModel',
  modelParams: { dimensions: DIMS },
  runUri: RUN_URI,
  columns: ['n', 'input_text'],
} as unknown as ResolvedRun;

const recordId = (i: number) => String(i).padStart(11, '0');
const vectorOf = (i: number) => Array.from({ length: DIMS }, (_, d) => Number(Math.fround(Math.sin(i * 31 + d) / 3).toPrecision(9)));

function inActivity<T>(fn: () => Promise<T>): Promise<T> {
  const info = { activityType: 'collectShard', attempt: 2, heartbeatTimeoutMs: 30_000, workflowExecution: { workflowId: 't', runId: 't' } } as unknown as ConstructorParameters<typeof Context>[0];
  const noop = () => undefined;
  const logger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop } as unknown as ConstructorParameters<typeof Context>[5];
  const ctx = new Context(info, new Promise<never>(noop), new AbortController().signal, noop, undefined, logger, undefined as never, {} as never);
  return asyncLocalStorage.run(ctx, fn);
}

async function writeShardInputs(shardIndex: number): Promise<void> {
  const paths = shardPaths(RUN_URI, shardIndex);
  const schema = new Schema([new Field('record_id', new Utf8(), false), new Field('n', new Int32(), true), new Field('input_text', new Utf8(), true)]);
  const ids = Array.from({ length: ROWS }, (_, i) => i);
  // Two snapshot batches, as a snapshot with several row groups gives.
  const batches = [ids.slice(0, 250), ids.slice(250)].map((part) =>
    recordBatchOf(schema, [utf8Data(part.map(recordId)), vectorFromArray(part, new Int32()).data[0], utf8Data(part.map((i) => `text ${i} — ünïcode`))]),
  );
  await writeParquetToS3(moto.s3, paths.snapshot, batches, { maxRowGroupRows: 250 });
  // Output lines in reverse order, CRLF line ends, one error record, no newline at the end.
  const lines = ids.reverse().map((i) => {
    const input = { inputText: `text ${i} — ünïcode`, dimensions: DIMS };
    if (i === 7) return JSON.stringify({ recordId: recordId(i), modelInput: input, error: { errorCode: 400, errorMessage: 'bad input' } });
    const v = vectorOf(i);
    return JSON.stringify({ recordId: recordId(i), modelInput: input, modelOutput: { embedding: v, embeddingsByType: { float: v }, inputTextTokenCount: 5 } });
  });
  await writeObject(moto.s3, `${paths.bedrockOutput}${JOB_ID}/shard-${String(shardIndex).padStart(5, '0')}.jsonl.out`, lines.join('\r\n'));
  await writeObject(moto.s3, `${paths.bedrockOutput}${JOB_ID}/manifest.json.out`, JSON.stringify({ inputTokenCount: 5 * (ROWS - 1), outputTokenCount: 0 }));
}

beforeAll(async () => {
  moto = await startMotoS3(BUCKET);
  deps = { s3: moto.s3, bedrock: undefined as never, templatesDir: '', defaults: loadRunDefaults(), prices: loadPriceTable(), hub: { endpoint: 'http://127.0.0.1:9' } };
  await writeShardInputs(0);
  await writeShardInputs(1);
  // The shard manifest preprocessing writes, through which collectShard finds each shard's snapshot.
  const shards = [0, 1].map((i) => ({ index: i, records: ROWS, jsonlUri: shardPaths(RUN_URI, i).jsonl, snapshotUri: shardPaths(RUN_URI, i).snapshot }));
  await writeObject(moto.s3, runFiles(RUN_URI).shardManifest, JSON.stringify({ shards }));
}, 60_000);

afterAll(async () => moto?.stop());

const parquetKeys = async (shardIndex: number) =>
  (await listKeys(moto.s3, `${RUN_URI}/output/`)).filter((k) => k.endsWith('.parquet') && outputFileIndex(k)?.shardIndex === shardIndex).map((k) => k.split('/').pop());

test('a shard over the bound becomes several files of one schema; a retry with fewer files deletes the rest; the manifest lists files and schema', async () => {
  const small = makeCollectShard(deps, { maxFileBytes: FILE_BYTES });
  const first = await inActivity(() => small.collectShard({ run, shardIndex: 0, attempts: 1, jobArn: JOB_ARN, jobStatus: 'Completed' }));
  expect(first).toMatchObject({ rows: ROWS, succeeded: ROWS - 1, failed: 1, inputTokens: 5 * (ROWS - 1), partUri: `${RUN_URI}/output/part-00000-000.parquet` });
  expect(first.files!.length).toBeGreaterThanOrEqual(3);
  expect(first.files!.map((f) => f.uri.split('/').pop())).toEqual(first.files!.map((_, i) => `part-00000-${String(i).padStart(3, '0')}.parquet`));
  expect(first.files!.reduce((n, f) => n + f.rows, 0)).toBe(ROWS);
  // Bounded (Arrow bytes in; the Parquet footer and headers add a little).
  for (const f of first.files!) expect(f.bytes).toBeLessThan(1.25 * FILE_BYTES);
  expect(await parquetKeys(0)).toEqual(first.files!.map((f) => f.uri.split('/').pop()));

  // Every row once, joined by id, vectors exact, in snapshot order across the files.
  const rows = await readRunOutput(moto.s3, first.files!.map((f) => f.uri));
  expect(rows.map((r) => r.n)).toEqual(Array.from({ length: ROWS }, (_, i) => i));
  expect(rows[7]).toMatchObject({ embedding: null, error_code: '400', error_message: 'bad input' });
  const wrong = rows.filter((r, i) => i !== 7 && !vectorOf(i).map(Math.fround).every((x, d) => x === (r.embedding as { get(d: number): number }).get(d)));
  expect(wrong).toEqual([]);

  // pyarrow reads every file with the same columns and types.
  const views = await Promise.all(first.files!.map((f) => readWithPyarrow(moto.s3, f.uri)));
  for (const v of views) expect(v.columns).toEqual(views[0].columns);
  expect(views[0].columns).toEqual([
    ['n', 'int32'], ['input_text', 'string'], ['embedding', 'list<item: float>'], ['stop_reason', 'string'], ['input_tokens', 'int32'],
    ['output_tokens', 'int32'], ['error_code', 'string'], ['error_message', 'string'], ['record_id', 'string'], ['job_id', 'string'],
  ]);

  // A retry of the same shard with a bound that fits it in one file: the other files are deleted.
  const big = makeCollectShard(deps, { maxFileBytes: 64 * 1024 * 1024 });
  const retry = await inActivity(() => big.collectShard({ run, shardIndex: 0, attempts: 1, jobArn: JOB_ARN, jobStatus: 'Completed' }));
  expect(retry.files).toEqual([{ uri: `${RUN_URI}/output/part-00000-000.parquet`, rows: ROWS, bytes: expect.any(Number) }]);
  expect(await parquetKeys(0)).toEqual(['part-00000-000.parquet']);

  // Shard 1 as if its job had failed: no successes, same columns and types.
  const failed = await inActivity(() => small.collectShard({ run, shardIndex: 1, attempts: 2, failure: { code: 'JOB_FAILED', message: 'Bedrock job Failed' } }));
  expect(failed).toMatchObject({ rows: ROWS, succeeded: 0, failed: ROWS });
  for (const f of failed.files!) {
    const view = await readWithPyarrow(moto.s3, f.uri);
    expect(view.columns).toEqual(views[0].columns);
    expect(view.first).toMatchObject({ embedding: null, error_code: 'JOB_FAILED' });
  }

  const totals: RunTotals = { shardsDone: 2, shardsFailed: 1, rows: 2 * ROWS, succeeded: ROWS - 1, failed: ROWS + 1, inputTokens: 0, outputTokens: 0, failedShards: [] };
  const prepared: PreparedShards = { rowCount: 2 * ROWS, shardCount: 2, shardManifestUri: `${RUN_URI}/shards.json` };
  const summary = await makeFinalizeRun(deps)({ run, prepared, totals });
  const manifest = JSON.parse(await readObjectText(moto.s3, summary.manifestUri));
  expect(manifest.rowCount).toBe(2 * ROWS);
  expect(manifest.files.map((f: { uri: string }) => f.uri)).toEqual(summary.outputUris);
  expect(summary.outputUris).toEqual([retry.files![0].uri, ...failed.files!.map((f) => f.uri)]);
  expect(manifest.schema).toEqual([
    { name: 'n', type: 'Int32', nullable: true },
    { name: 'input_text', type: 'Utf8', nullable: true },
    { name: 'embedding', type: 'List<Float32>', nullable: true },
    { name: 'stop_reason', type: 'Utf8', nullable: true },
    { name: 'input_tokens', type: 'Int32', nullable: true },
    { name: 'output_tokens', type: 'Int32', nullable: true },
    { name: 'error_code', type: 'Utf8', nullable: true },
    { name: 'error_message', type: 'Utf8', nullable: true },
    { name: 'record_id', type: 'Utf8', nullable: false },
    { name: 'job_id', type: 'Utf8', nullable: true },
  ]);
});
