import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { BedrockEmulator, startBedrockEmulator } from '../../src/emulator';
import { startBatchRun } from '../../src/client/api';
import { createS3Client, ensureBucket } from '../../src/io/s3';
import { MotoServer, TemporalDevServer, startMotoServer, startTemporalDevServer, waitFor } from '../../src/localstack';
import { RunInput, RunSummary } from '../../src/shared/types';
import { sampleRows, uploadCsv } from '../support/data';
import { CREDENTIALS, LocalStack, REGION } from '../support/localStack';
import { readRunOutput } from '../support/output';
import { textRun } from '../support/runs';
import { TcpProxy, startTcpProxy } from '../support/tcpProxy';
import { RunningWorker, startWorker } from '../support/worker';

/**
 * The services a run depends on go away mid-run and come back: the Temporal server (restarted
 * on its SQLite file), the Bedrock emulator (restarted empty, so it has forgotten its jobs), and
 * S3 (unreachable for 30 s while shards are collected). Runs complete, nothing lost, nothing
 * paid twice that Bedrock still knew about.
 */
let temporal: TemporalDevServer;
let moto: MotoServer;
let emulator: BedrockEmulator;
let s3Proxy: TcpProxy;
let worker: RunningWorker;
let bedrock: BedrockClient;
const dbDir = mkdtempSync(join(tmpdir(), 'temporal-db-'));
const dbFilename = join(dbDir, 'temporal.db');
const EMULATOR_TIMING = { submittedMs: 50, validatingMs: 50, scheduledMs: 50, inProgressMs: 3000 };
/** S3 as the test sees it: straight to moto, never cut off. */
let directS3: ReturnType<typeof createS3Client>;

async function startEmulator(port?: number) {
  return startBedrockEmulator({ port, region: REGION, s3: { endpoint: moto.endpoint, region: REGION, credentials: CREDENTIALS }, timing: EMULATOR_TIMING });
}

beforeAll(async () => {
  [temporal, moto] = await Promise.all([startTemporalDevServer({ uiPort: false, dbFilename }), startMotoServer()]);
  emulator = await startEmulator();
  s3Proxy = await startTcpProxy(moto.port);
  directS3 = createS3Client({ region: REGION, endpoint: moto.endpoint, forcePathStyle: true, credentials: CREDENTIALS });
  // The worker reaches S3 through the proxy, so S3 can be cut off from it alone.
  const s3Settings = { region: REGION, endpoint: s3Proxy.endpoint, forcePathStyle: true, credentials: CREDENTIALS };
  const s3 = createS3Client(s3Settings);
  bedrock = new BedrockClient({ region: REGION, endpoint: emulator.url, credentials: CREDENTIALS, maxAttempts: 10 });
  for (const bucket of ['datasets', 'results']) await ensureBucket(s3, bucket);
  const stack = { temporal, moto, emulator, s3, s3Settings, bedrock, env: {}, stop: async () => undefined } as unknown as LocalStack;
  worker = await startWorker(stack);
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  bedrock?.destroy();
  directS3?.destroy();
  await emulator?.close();
  await s3Proxy?.close();
  await Promise.all([temporal?.stop(), moto?.stop()]);
  rmSync(dbDir, { recursive: true, force: true });
});

const input = (name: string): RunInput => textRun(name, { maxRecordsPerJob: 200, maxConcurrentJobs: 2 });

async function expectComplete(summary: RunSummary, rows: number): Promise<void> {
  expect(summary).toMatchObject({ rows, succeeded: rows, outcome: 'complete' });
  const out = await readRunOutput(directS3, summary.outputUris);
  expect(out).toHaveLength(rows);
  expect(new Set(out.map((r) => r.record_id)).size).toBe(rows);
}

const inProgress = () => emulator.stats().jobs.filter((j) => j.status === 'InProgress').length;

test('the Temporal server killed and restarted on its SQLite file mid-run: the run completes, no job paid twice', async () => {
  await uploadCsv(directS3, 's3://datasets/temporal-restart.csv', sampleRows(600));
  await startBatchRun(worker.client, input('temporal-restart'), { workflowId: 'temporal-restart' });
  await waitFor('a job in progress', async () => inProgress() >= 1, 60_000, 50);
  await temporal.stop();
  temporal = await startTemporalDevServer({ uiPort: false, dbFilename, port: temporal.port });
  const summary: RunSummary = await worker.client.workflow.getHandle('temporal-restart').result();
  await expectComplete(summary, 600);
  const jobs = emulator.stats().jobs.filter((j) => j.jobName.startsWith('temporal-restart'));
  expect(jobs.map((j) => j.status)).toEqual(['Completed', 'Completed', 'Completed']);
}, 240_000);

test('the Bedrock emulator restarted empty mid-run: forgotten jobs are resubmitted as new attempts, not waited on', async () => {
  await uploadCsv(directS3, 's3://datasets/emulator-restart.csv', sampleRows(400));
  const handle = await startBatchRun(worker.client, input('emulator-restart'), { workflowId: 'emulator-restart' });
  await waitFor('two jobs in progress', async () => inProgress() === 2, 60_000, 50);
  expect(emulator.stats().jobs.filter((j) => j.jobName.startsWith('emulator-restart'))).toHaveLength(2);
  const port = emulator.port;
  await emulator.close();
  emulator = await startEmulator(port);
  const summary = await handle.result();
  await expectComplete(summary, 400);
  // Both forgotten jobs came back as attempt 2; nothing was waited on forever.
  expect(emulator.stats().jobs.map((j) => j.jobName.slice(-3)).sort()).toEqual(['-a2', '-a2']);
}, 240_000);

test('S3 unreachable for 30 s while shards are collected: collect retries and the run completes', async () => {
  await uploadCsv(directS3, 's3://datasets/s3-outage.csv', sampleRows(400));
  const before = new Set(emulator.stats().jobs.map((j) => j.jobArn));
  const handle = await startBatchRun(worker.client, input('s3-outage'), { workflowId: 's3-outage' });
  const done = () => emulator.stats().jobs.filter((j) => !before.has(j.jobArn) && j.status === 'Completed').length;
  await waitFor('a job completed', async () => done() >= 1, 60_000, 20);
  s3Proxy.cutOff();
  await new Promise((r) => setTimeout(r, 30_000));
  s3Proxy.resume();
  const summary = await handle.result();
  await expectComplete(summary, 400);
  const jobs = emulator.stats().jobs.filter((j) => !before.has(j.jobArn));
  expect(jobs.map((j) => j.status)).toEqual(['Completed', 'Completed']);
}, 240_000);
