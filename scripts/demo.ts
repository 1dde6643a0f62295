/**
 * Runs the bundled sample end to end on the local stack: Temporal dev server (with Web UI and a
 * SQLite file so runs survive restarts), moto S3 server, the Bedrock emulator, and a worker.
 * `--keep` leaves the stack up afterwards for the Web UI and the CLI.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { startBedrockEmulator } from '../src/emulator';
import { freePort, startMotoServer, startTemporalDevServer } from '../src/localstack';
import { createS3Client, ensureBucket, writeObject } from '../src/io/s3';
import { hubSettingsFromEnv } from '../src/io/huggingface';
import { readParquetFromS3 } from '../src/io/parquetRead';
import { createBedrockClient, createBedrockRuntimeClient, loadPriceTable, loadRunDefaults, REPO_ROOT } from '../src/config';
import { createBatchWorker } from '../src/worker';
import { BATCH_SEARCH_ATTRIBUTES } from '../src/shared/searchAttributes';
import { startBatchRun } from '../src/client/api';
import { progressQuery } from '../src/shared/messages';
import { RunInput, TASK_QUEUE } from '../src/shared/types';
import { copyOutputLocally, progressPrinter, readerCommand, writeStackEnv } from './demo/output';
import { createStopper, stopOnSignals } from './demo/stopper';

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

async function portOr(preferred: number): Promise<number> {
  const net = await import('node:net');
  const free = await new Promise<boolean>((r) => {
    const s = net.createServer().once('error', () => r(false)).listen(preferred, '127.0.0.1', () => s.close(() => r(true)));
  });
  return free ? preferred : freePort();
}

async function main(): Promise<void> {
  const keep = process.argv.includes('--keep');
  Runtime.install({ logger: new DefaultLogger('WARN') });
  // Installed before anything starts, so a Ctrl-C during startup stops what has started so far.
  const stopper = createStopper(console.log);
  stopOnSignals(stopper, console.log);
  // DEMO_STATE_DIR: where the SQLite file, the env file and the copied output go (tests use a temp dir).
  const stateDir = resolve(process.env.DEMO_STATE_DIR ?? resolve(REPO_ROOT, '.local'));
  mkdirSync(stateDir, { recursive: true });
  console.log('starting the local stack…');
  const temporal = await startTemporalDevServer({ port: await portOr(7233), uiPort: await portOr(8233), dbFilename: resolve(stateDir, 'temporal-demo.db'), searchAttributes: BATCH_SEARCH_ATTRIBUTES });
  stopper.add('Temporal dev server', () => temporal.stop());
  const moto = await startMotoServer({ port: await portOr(5000) });
  stopper.add('moto S3 server', () => moto.stop());
  const emulator = await startBedrockEmulator({
    port: await portOr(4599),
    region: REGION,
    s3: { endpoint: moto.endpoint, region: REGION, credentials: CREDENTIALS },
    timing: { submittedMs: 500, validatingMs: 500, scheduledMs: 500, inProgressMs: 3000 },
  });
  stopper.add('Bedrock emulator', () => emulator.close());
  console.log(`  Temporal  ${temporal.address}   Web UI ${temporal.uiUrl}`);
  console.log(`  S3 (moto) ${moto.endpoint}`);
  console.log(`  Bedrock   ${emulator.url} (emulator)`);

  const s3 = createS3Client({ region: REGION, endpoint: moto.endpoint, forcePathStyle: true, credentials: CREDENTIALS });
  const bedrock = createBedrockClient({ region: REGION, endpoint: emulator.url, credentials: CREDENTIALS });
  const bedrockRuntime = createBedrockRuntimeClient({ region: REGION, endpoint: emulator.url, credentials: CREDENTIALS });
  stopper.add('AWS clients', () => {
    s3.destroy();
    bedrock.destroy();
    bedrockRuntime.destroy();
  });
  await ensureBucket(s3, 'datasets');
  await ensureBucket(s3, 'results');
  await writeObject(s3, 's3://datasets/topics.csv', readFileSync(resolve(REPO_ROOT, 'samples/topics.csv')), 'text/csv');

  const native = await NativeConnection.connect({ address: temporal.address });
  stopper.add('worker connection', () => native.close());
  const worker = await createBatchWorker({
    connection: native,
    namespace: 'default',
    taskQueue: TASK_QUEUE,
    deps: { s3, bedrock, bedrockRuntime, templatesDir: resolve(REPO_ROOT, 'templates'), defaults: loadRunDefaults(), prices: loadPriceTable(), hub: hubSettingsFromEnv() },
  });
  const workerDone = worker.run();
  stopper.add('worker', async () => {
    worker.shutdown();
    await workerDone;
  });

  const connection = await Connection.connect({ address: temporal.address });
  stopper.add('client connection', () => connection.close());
  const client = new Client({ connection });
  await endOrphanedRuns(client);
  const input = JSON.parse(readFileSync(resolve(REPO_ROOT, 'samples/run-text.json'), 'utf8')) as RunInput;
  const handle = await startBatchRun(client, input, { workflowId: `demo-${Date.now()}` });
  console.log(`\nstarted run ${handle.workflowId} (${'s3Uri' in input.input ? input.input.s3Uri : input.input.huggingFace.datasetId} → ${input.modelId})`);
  const progress = progressPrinter();
  const poll = async () => {
    const p = await handle.query(progressQuery).catch(() => undefined);
    if (p) for (const line of progress(p)) console.log(`  ${line}`);
  };
  const ticker = setInterval(poll, 500);
  void poll();
  const summary = await handle.result().finally(() => clearInterval(ticker));

  console.log(`\ndone: ${summary.rows} rows, ${summary.succeeded} succeeded, ${summary.failed} failed, ${summary.inputTokens} input / ${summary.outputTokens} output tokens`);
  if (summary.cost.batchCost !== undefined) console.log(`cost: $${summary.cost.batchCost} in batch ($${summary.cost.onDemandCost} on demand; prices of ${summary.cost.pricesAsOf})`);
  console.log(`Parquet output (${summary.outputUris.length} files):`);
  for (const uri of summary.outputUris) console.log(`  ${uri}`);
  console.log(`manifest ${summary.manifestUri}\nsummary  ${summary.summaryUri}\n\nfirst rows:`);
  let shown = 0;
  for await (const batch of readParquetFromS3(s3, summary.outputUris[0])) {
    for (const row of batch.toArray()) {
      const r = row.toJSON();
      console.log(`  ${r.id} | ${r.topic} | ${String(r.response).slice(0, 90)}`);
      if (++shown >= 5) break;
    }
    break;
  }
  // moto keeps objects in memory: a local copy is what remains after the demo.
  const outDir = resolve(stateDir, 'demo-output', handle.workflowId);
  await copyOutputLocally(s3, summary.outputUris, outDir);
  console.log(`\nthe Parquet files are copied to ${outDir}\nread them with:\n  ${readerCommand(outDir, REPO_ROOT)}`);

  if (keep) {
    const envFile = resolve(stateDir, 'stack.env');
    writeStackEnv(
      envFile,
      {
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_NAMESPACE: 'default',
        AWS_REGION: REGION,
        AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_S3: moto.endpoint,
        AWS_ENDPOINT_URL_BEDROCK: emulator.url,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      resolve(REPO_ROOT, '.local/bin'),
    );
    // A file left behind would point new shells at ports nothing listens on any more.
    stopper.add('env file', () => rmSync(envFile, { force: true }));
    console.log(
      `\nthe stack stays up (Ctrl-C to stop). In another shell:\n  source ${envFile}\n  npm run cli -- status ${handle.workflowId}\n` +
        `  npm run cli -- estimate --input samples/run-text.json\n  temporal workflow list\n  Web UI: ${temporal.uiUrl}`,
    );
    return; // the worker and servers keep the process alive until a signal stops them
  }
  await stopper.stopAll();
}

/**
 * Temporal's state survives in the demo's SQLite file, but moto and the emulator keep theirs in
 * memory: runs left running by an earlier demo point at data that no longer exists, so they are
 * ended here (their histories stay visible in the Web UI).
 */
async function endOrphanedRuns(client: Client): Promise<void> {
  let ended = 0;
  for await (const wf of client.workflow.list({ query: `ExecutionStatus = 'Running' AND TaskQueue = '${TASK_QUEUE}'` })) {
    await client.workflow.getHandle(wf.workflowId, wf.runId).terminate('the demo stack restarted: its S3 objects and Bedrock jobs are gone').catch(() => undefined);
    ended += 1;
  }
  if (ended) console.log(`  ended ${ended} workflow(s) left running by an earlier demo (their S3 data and jobs were in memory)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
