import { Client } from '@temporalio/client';
import { NativeConnection, Worker, WorkerOptions } from '@temporalio/worker';
import { ActivityDeps, createActivities } from './activities';
import { activityDepsFrom, loadAppConfig } from './config';
import { describeTemporal, explainConnectFailure, nativeConnectionOptions } from './temporalConnection';
import { installRuntime } from './telemetry';
import { tracingFromEnv } from './tracing';
import { ensureBatchSearchAttributes } from './searchAttributeSetup';
import { startConfiguredJobEvents } from './events/jobEvents';

export interface BatchWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** A prebuilt bundle (tests build one and share it); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** E.g. OpenTelemetry tracing (src/tracing.ts); its workflow interceptors need the workflows bundled at start. */
  plugins?: WorkerOptions['plugins'];
}

export function createBatchWorker(opts: BatchWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    // The worker's own connection serves the job-slot activities' client too.
    activities: createActivities({ temporal: new Client({ connection: opts.connection, namespace: opts.namespace }), ...opts.deps }),
    // A workflow's next task waits this long on the queue of the worker that ran its last one
    // before any worker may take it: short, so a run whose worker died moves on within seconds.
    stickyQueueScheduleToStartTimeout: '3 seconds',
    ...(opts.plugins ? { plugins: opts.plugins } : {}),
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: require.resolve('./workflows') }),
  });
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
