import { availableParallelism } from 'node:os';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker, WorkerOptions } from '@temporalio/worker';
import { ActivityDeps, createActivities } from './activities';
import { activityDepsFrom, loadAppConfig } from './config';
import { describeTemporal, explainConnectFailure, nativeConnectionOptions } from './temporalConnection';
import { installRuntime } from './telemetry';
import { tracingFromEnv } from './tracing';
import { ensureBatchSearchAttributes } from './searchAttributeSetup';
import { startConfiguredJobEvents } from './events/jobEvents';
import { cpuTaskQueue } from './shared/types';

export interface BatchWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /**
   * CPU-bound activities (preparing parts, collecting shards) this worker runs at once, taken from
   * the CPU task queue (cpuTaskQueue). Default: its preprocessing threads, else one per core.
   */
  cpuSlots?: number;
  /** A prebuilt bundle (tests build one and share it); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** E.g. OpenTelemetry tracing (src/tracing.ts); its workflow interceptors need the workflows bundled at start. */
  plugins?: WorkerOptions['plugins'];
}

/** The workers of one process: workflows and light activities on the task queue, CPU-bound activities on its CPU queue. */
export interface BatchWorker {
  /** Runs until shutdown (or SIGINT/SIGTERM); if either worker fails, the other is shut down too. */
  run(): Promise<void>;
  shutdown(): void;
}

export async function createBatchWorker(opts: BatchWorkerOptions): Promise<BatchWorker> {
  // The worker's own connection serves the job-slot activities' client too.
  const activities = createActivities({ temporal: new Client({ connection: opts.connection, namespace: opts.namespace }), ...opts.deps });
  const common = { connection: opts.connection, namespace: opts.namespace, activities, ...(opts.plugins ? { plugins: opts.plugins } : {}) };
  const main = await Worker.create({
    ...common,
    taskQueue: opts.taskQueue,
    // A workflow's next task waits this long on the queue of the worker that ran its last one before
    // any worker may take it (so a run whose worker died moves on within seconds). Not shorter than
    // the SDK's 10 s: a task that misses it goes to the shared queue with the whole history, and the
    // worker replays the run from its start, which on a busy worker costs seconds per page.
    stickyQueueScheduleToStartTimeout: '10 seconds',
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: require.resolve('./workflows') }),
  });
  // Activities only: it polls for a task only while a slot is free, so a busy worker leaves the next part to another.
  const cpu = await Worker.create({
    ...common,
    taskQueue: cpuTaskQueue(opts.taskQueue),
    maxConcurrentActivityTaskExecutions: Math.max(1, opts.cpuSlots ?? (opts.deps.threads?.threads || availableParallelism())),
  });
  const workers = [main, cpu];
  return {
    async run() {
      const runs = workers.map((w) =>
        w.run().catch((err: unknown) => {
          for (const other of workers) if (other !== w && other.getState() === 'RUNNING') other.shutdown();
          throw err;
        }),
      );
      const results = await Promise.allSettled(runs);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
    shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    },
  };
}

async function main(): Promise<void> {
  // Before any connection: metrics exporter and log format are fixed for the process (BATCH_METRICS_ADDRESS, BATCH_LOG_FORMAT).
  installRuntime();
  const tracing = tracingFromEnv();
  const config = loadAppConfig();
  const connection = await explainConnectFailure(config.temporal, NativeConnection.connect(nativeConnectionOptions(config.temporal)));
  await ensureBatchSearchAttributes(connection.operatorService, config.temporal.namespace);
  const worker = await createBatchWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    deps: activityDepsFrom(config),
    cpuSlots: config.cpuSlots,
    plugins: tracing ? [tracing.plugin] : undefined,
  });
  console.log(`worker polling task queue "${config.temporal.taskQueue}" on ${describeTemporal(config.temporal)}`);
  if (tracing) console.log(tracing.description);
  if (process.env.BATCH_METRICS_ADDRESS) console.log(`Prometheus metrics on http://${process.env.BATCH_METRICS_ADDRESS}/metrics`);
  // Job-state events signal shard workflows; stopped with the worker (worker.run returns on SIGINT/SIGTERM).
  const jobEvents = startConfiguredJobEvents(config.jobEvents, new Client({ connection, namespace: config.temporal.namespace }));
  try {
    await worker.run();
  } finally {
    await jobEvents?.stop();
  }
  await tracing?.shutdown();
  await connection.close();
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
