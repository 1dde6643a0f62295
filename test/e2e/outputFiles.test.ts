import { Context, asyncLocalStorage } from '@temporalio/activity';
import { startBatchRun } from '../../src/client/api';
import { makeCollectShard } from '../../src/activities/collectShard';
import { makeResolveRun } from '../../src/activities/resolveRun';
import { ActivityDeps } from '../../src/activities/deps';
import { loadPriceTable, loadRunDefaults } from '../../src/config';
import { readObjectText } from '../../src/io/s3';
import { outputFileIndex } from '../../src/shared/paths';
import { RunInput } from '../../src/shared/types';
import { sampleRows, uploadCsv } from '../support/data';
import { LocalStack, startLocalStack } from '../support/localStack';
import { listKeys, readRunOutput } from '../support/output';
import { readWithPyarrow } from '../support/pyarrow';
import { RunningWorker, TEMPLATES_DIR, startWorker } from '../support/worker';

// 300 rows of 256-d vectors a shard (~330 KB of Arrow data): about four files a shard at this bound.
const FILE_BYTES = 100_000;
const DATA = 's3://datasets/output-files.csv';
const ROWS = 600;

let stack: LocalStack;
let worker: RunningWorker;
let deps: ActivityDeps;
const savedEnv = process.env.OUTPUT_FILE_MAX_BYTES;

const input: RunInput = {
  input: { s3Uri: DATA },
  task: 'embedding',
  modelId: 'amazon.titan-embed-text-v2:0',
  modelParams: { dimensions: 256 },
  outputUri: 's3://results/output-files',
  roleArn: 'arn:aws:iam::123456789012:role/BedrockBatchRole',
  maxRecordsPerJob: 300,
  maxConcurrentJobs: 2,
  pollIntervalSeconds: 1,
  runName: 'output-files',
};

beforeAll(async () => {
  // The worker's collectShard reads the bound when it is built.
  process.env.OUTPUT_FILE_MAX_BYTES = String(FILE_BYTES);
  stack = await startLocalStack();
  worker = await startWorker(stack);
  deps = { s3: stack.s3, bedrock: stack.bedrock, templatesDir: TEMPLATES_DIR, defaults: loadRunDefaults(), prices: loadPriceTable(), hub: { endpoint: 'http://127.0.0.1:9' } };
  await uploadCsv(stack.s3, DATA, sampleRows(ROWS));
}, 180_000);

afterAll(async () => {
  if (savedEnv === undefined) delete process.env.OUTPUT_FILE_MAX_BYTES;
  else process.env.OUTPUT_FILE_MAX_BYTES = savedEnv;
  await worker?.stop();
  await stack?.stop();
});

/** Runs an activity function outside a worker, with a Context for its heartbeats. */
function inActivity<T>(fn: () => Promise<T>): Promise<T> {
  const info = { activityType: 'collectShard', attempt: 2, heartbeatTimeoutMs: 30_000, workflowExecution: { workflowId: 't', runId: 't' } } as unknown as ConstructorParameters<typeof Context>[0];
  const noop = () => undefined;
  const logger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop } as unknown as ConstructorParameters<typeof Context>[5];
  const ctx = new Context(info, new Promise<never>(noop), new AbortController().signal, noop, undefined, logger, undefined as never, {} as never);
  return asyncLocalStorage.run(ctx, fn);
}

const manifestOf = async (uri: string) =>
  JSON.parse(await readObjectText(stack.s3, uri)) as {
    rowCount: number;
    schema: Array<{ name: string; type: string; nullable: boolean }>;
    files: Array<{ uri: string; rows: number; bytes: number }>;
  };

test('a shard bigger than the bound becomes several files of one schema, listed with their rows and the schema in the manifest', async () => {
  const summary = await (await startBatchRun(worker.client, input, { workflowId: 'output-files-1' })).result();
  expect(summary).toMatchObject({ rows: ROWS, succeeded: ROWS, failed: 0 });

  const names = summary.outputUris.map((u) => outputFileIndex(u)!);
  expect(names.every((n) => n.file !== undefined)).toBe(true);
  const perShard = [0, 1].map((s) => names.filter((n) => n.shardIndex === s).map((n) => n.file));
  // Several files per shard, numbered from 0 without gaps.
  for (const files of perShard) {
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(files).toEqual(files.map((_, i) => i));
  }

  const manifest = await manifestOf(summary.manifestUri);
  expect(manifest.files.map((f) => f.uri)).toEqual(summary.outputUris);
  expect(manifest.rowCount).toBe(ROWS);
  expect(manifest.files.reduce((n, f) => n + f.rows, 0)).toBe(ROWS);
  // Bounded: a file holds at most the bound of Arrow data plus one joined batch (here small).
  for (const f of manifest.files) expect(f.bytes).toBeLessThan(2 * FILE_BYTES);
  expect(manifest.schema.map((c) => c.name)).toEqual(['id', 'topic', 'input_text', 'embedding', 'stop_reason', 'input_tokens', 'output_tokens', 'error_code', 'error_message', 'record_id', 'job_id']);
  expect(manifest.schema.find((c) => c.name === 'embedding')!.type).toBe('List<Float32>');
  expect(manifest.schema.find((c) => c.name === 'input_tokens')!.type).toBe('Int32');

  // An independent reader sees the same columns in every file.
  const views = await Promise.all(summary.outputUris.map((u) => readWithPyarrow(stack.s3, u)));
  for (const v of views) expect(v.columns).toEqual(views[0].columns);
  expect(views[0].columns).toContainEqual(['embedding', 'list<item: float>']);
  expect(views.reduce((n, v) => n + v.rows, 0)).toBe(ROWS);

  const rows = await readRunOutput(stack.s3, summary.outputUris);
  expect(new Set(rows.map((r) => r.record_id)).size).toBe(ROWS);
});

test('a retried collectShard with fewer files deletes the extra ones; a shard with no successes keeps the schema', async () => {
  const run = await makeResolveRun(deps)(input);
  const outputDir = `${run.runUri}/output/`;
  const before = (await listKeys(stack.s3, outputDir)).filter((k) => k.endsWith('.parquet'));
  const jobKey = (await listKeys(stack.s3, `${run.runUri}/bedrock-output/shard-00000/`)).find((k) => k.endsWith('.jsonl.out'))!;
  const jobId = jobKey.split('/').slice(-2)[0];

  // The same shard again with a bound that fits it in one file.
  const big = makeCollectShard(deps, { maxFileBytes: 64 * 1024 * 1024 });
  const outcome = await inActivity(() =>
    big.collectShard({ run, shardIndex: 0, attempts: 1, jobArn: `arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/${jobId}`, jobStatus: 'Completed' }),
  );
  expect(outcome).toMatchObject({ rows: 300, succeeded: 300, partUri: `${outputDir}part-00000-000.parquet` });
  expect(outcome.files).toEqual([{ uri: `${outputDir}part-00000-000.parquet`, rows: 300, bytes: expect.any(Number) }]);
  const after = (await listKeys(stack.s3, outputDir)).filter((k) => k.endsWith('.parquet'));
  expect(after.filter((k) => outputFileIndex(k)!.shardIndex === 0).map((k) => k.split('/').pop())).toEqual(['part-00000-000.parquet']);
  // Shard 1's files are untouched.
  expect(after.filter((k) => outputFileIndex(k)!.shardIndex === 1)).toEqual(before.filter((k) => outputFileIndex(k)!.shardIndex === 1));

  // Shard 1 as if its job had failed: every row an error, no vector, same columns and types.
  const small = makeCollectShard(deps, { maxFileBytes: FILE_BYTES });
  const failed = await inActivity(() => small.collectShard({ run, shardIndex: 1, attempts: 2, failure: { code: 'JOB_FAILED', message: 'Bedrock job Failed' } }));
  expect(failed).toMatchObject({ rows: 300, failed: 300, succeeded: 0 });
  const ok = await readWithPyarrow(stack.s3, outcome.partUri);
  for (const f of failed.files!) {
    const view = await readWithPyarrow(stack.s3, f.uri);
    expect(view.columns).toEqual(ok.columns);
    expect(view.first).toMatchObject({ embedding: null, error_code: 'JOB_FAILED' });
  }
  // Fewer, smaller files than with vectors: the stale higher-numbered ones are gone.
  const shard1 = (await listKeys(stack.s3, outputDir)).filter((k) => k.endsWith('.parquet') && outputFileIndex(k)!.shardIndex === 1);
  expect(shard1.map((k) => k.split('/').pop())).toEqual(failed.files!.map((f) => f.uri.split('/').pop()));
});
