/**
 * One benchmark stage in its own process, so that peak RSS (`process.resourceUsage().maxRSS`)
 * belongs to that stage alone. argv[2] is a JSON request; the last stdout line is a JSON report.
 *
 *   {mode: 'prep', stage, run, threads, inputBytes} planPreparation → preparePart per part in worker threads → combineParts
 *   {mode: 'collect', stage, run, shards, jobIds}   makeCollectShard(deps).collectShard per shard, in an activity context
 *   {mode: 'outputs', run, spec}                    setup: Bedrock-shaped outputs for the shards (not measured)
 *
 * Environment: AWS_ENDPOINT_URL_S3 and credentials of the moto server.
 */
import { performance } from 'node:perf_hooks';
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { Context, asyncLocalStorage } from '@temporalio/activity';
import type { S3Client } from '@aws-sdk/client-s3';
import { makeCollectShard } from '../src/activities/collectShard';
import { makePrepareParts } from '../src/activities/prepareParts';
import type { ActivityDeps } from '../src/activities/deps';
import { loadPriceTable, loadRunDefaults } from '../src/config';
import { hubSettingsFromEnv } from '../src/io/huggingface';
import { createS3Client, readObjectText, s3SettingsFromEnv } from '../src/io/s3';
import type { PreparedPart, ResolvedRun } from '../src/shared/types';
import { MemorySampler, REGION, ShardInfo, StageReport, instrumentS3 } from './common';
import { OutputSpec, jobArnOf, writeBedrockOutputs } from './outputs';

type Request =
  | { mode: 'prep'; stage: string; run: ResolvedRun; threads: number; inputBytes: number }
  | { mode: 'collect'; stage: string; run: ResolvedRun; shards: ShardInfo[]; jobIds: string[] }
  | { mode: 'outputs'; stage: string; spec: OutputSpec };

const log = (msg: string) => process.stderr.write(`${msg}\n`);

function benchDeps(s3: S3Client): ActivityDeps {
  return { s3, bedrock: new BedrockClient({ region: REGION }), templatesDir: '', defaults: loadRunDefaults(), prices: loadPriceTable(), hub: hubSettingsFromEnv() };
}

/**
 * An activity context like the worker's (and @temporalio/testing's MockActivityEnvironment, not
 * installed here): Context.current() inside `fn` resolves to it; heartbeats are counted.
 */
async function inActivity<T>(activityType: string, fn: () => Promise<T>, onHeartbeat: () => void): Promise<T> {
  const info = {
    taskToken: new Uint8Array(),
    activityId: 'bench',
    activityType,
    workflowType: 'bedrockJob',
    workflowNamespace: 'default',
    workflowExecution: { workflowId: 'bench', runId: 'bench' },
    attempt: 1,
    isLocal: false,
    startToCloseTimeoutMs: 7_200_000,
    heartbeatTimeoutMs: 30_000,
    scheduleToCloseTimeoutMs: 0,
    scheduledTimestampMs: Date.now(),
    currentAttemptScheduledTimestampMs: Date.now(),
    taskQueue: 'bedrock-batch',
    activityNamespace: 'default',
    namespace: 'default',
    heartbeatDetails: undefined,
    priority: {},
    retryPolicy: undefined,
  } as unknown as ConstructorParameters<typeof Context>[0];
  const logger = { log() {}, trace() {}, debug() {}, info() {}, warn: log, error: log } as unknown as ConstructorParameters<typeof Context>[5];
  const ctx = new Context(info, new Promise<never>(() => undefined), new AbortController().signal, () => onHeartbeat(), undefined, logger, undefined as never, {} as never);
  return asyncLocalStorage.run(ctx, fn);
}

async function main() {
  const req = JSON.parse(process.argv[2]) as Request;
  const s3 = createS3Client(s3SettingsFromEnv());
  const stats = instrumentS3(s3);
  const memory = new MemorySampler();
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let rows = 0;
  let threaded = false;
  let extra: Record<string, unknown> = {};

  if (req.mode === 'prep') {
    // The worker's path: plan, parts in worker threads (one per core), then the shard manifest.
    // --threads 0: parts in this thread, one after another (a profile then sees them).
    const deps: ActivityDeps = { ...benchDeps(s3), ...(req.threads > 0 ? { threads: { threads: req.threads, s3: s3SettingsFromEnv() } } : {}) };
    const { planPreparation, preparePart, combineParts } = makePrepareParts(deps);
    const plan = await inActivity('planPreparation', () => planPreparation(req.run), () => undefined);
    const planSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    log(`  ${plan.parts.length} parts planned in ${planSeconds.toFixed(1)} s`);
    const parts: PreparedPart[] = [];
    let next = 0;
    const lane = async () => {
      while (next < plan.parts.length) {
        const part = plan.parts[next++];
        parts[part.index] = await inActivity('preparePart', () => preparePart({ run: req.run, part }), () => undefined);
        log(`  part ${part.index}: ${parts[part.index].rows} rows, ${parts[part.index].shards} shards`);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, req.threads) }, lane));
    const prepared = await inActivity('combineParts', () => combineParts({ run: req.run, parts }), () => undefined);
    rows = prepared.rowCount;
    const manifest = JSON.parse(await readObjectText(s3, prepared.shardManifestUri)) as { shards: ShardInfo[] };
    // Parts in threads read the input with clients of their own: count it here.
    if (req.threads > 0) {
      stats.bytesIn += req.inputBytes;
      threaded = true;
    }
    extra = { shards: manifest.shards, parts: plan.parts.length, threads: req.threads, planSeconds, inputTokens: prepared.estimate?.inputTokens };
  } else if (req.mode === 'collect') {
    const { collectShard } = makeCollectShard(benchDeps(s3));
    let heartbeats = 0;
    let succeeded = 0;
    let failed = 0;
    // collectShard reads all output lines first, then HEADs the snapshot: that request splits its time in two.
    let readOutputsSeconds = 0;
    let snapshotAt: number | undefined;
    stats.onRequest = (name, input) => {
      if (name === 'HeadObject' && String(input.Key).includes('/input-snapshot/') && snapshotAt === undefined) snapshotAt = Date.now();
    };
    for (let i = 0; i < req.shards.length; i++) {
      const shard = req.shards[i];
      const ts = Date.now();
      snapshotAt = undefined;
      const outcome = await inActivity(
        'collectShard',
        () => collectShard({ run: req.run, shardIndex: shard.index, attempts: 1, jobArn: jobArnOf(req.jobIds[i]), jobStatus: 'Completed' }),
        () => heartbeats++,
      );
      if (outcome.rows !== shard.records) throw new Error(`shard ${shard.index}: ${outcome.rows} rows out, ${shard.records} in`);
      rows += outcome.rows;
      readOutputsSeconds += ((snapshotAt ?? ts) - ts) / 1000;
      succeeded += outcome.succeeded;
      failed += outcome.failed;
      log(`  shard ${shard.index}: ${outcome.rows} rows (${outcome.failed} failed) in ${((Date.now() - ts) / 1000).toFixed(1)} s, rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB`);
    }
    extra = { succeeded, failed, heartbeats, shards: req.shards.length, readOutputsSeconds };
  } else {
    const written = await writeBedrockOutputs(s3, req.spec, log);
    rows = written.lines;
    extra = { ...written };
  }

  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const elu = performance.eventLoopUtilization(elu0);
  const cpu = process.cpuUsage(cpu0);
  const report: StageReport = {
    stage: req.stage,
    rows,
    seconds,
    cpuUserSeconds: cpu.user / 1e6,
    cpuSystemSeconds: cpu.system / 1e6,
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    // With parts in threads the main loop only waits on them: its idle time says nothing about S3.
    idleShare: threaded ? undefined : elu.idle / (elu.idle + elu.active),
    s3: stats,
    memoryPeaksMb: memory.stop(),
    extra,
  };
  s3.destroy();
  process.stdout.write(`\n${JSON.stringify(report)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
