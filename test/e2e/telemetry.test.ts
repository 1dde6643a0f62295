import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { freePort } from '../../src/localstack';
import { TASK_QUEUE } from '../../src/shared/types';
import { sampleRows, uploadCsv } from '../support/data';
import { LocalStack, startLocalStack } from '../support/localStack';
import { textRun } from '../support/runs';
import { WorkerProcess, spawnWorkerProcess } from '../support/workerProcess';

// The Runtime (metrics exporter, logger) is once per process, so the real worker entry point runs
// in its own process here, configured only through its environment as an operator would.
let stack: LocalStack;
let worker: WorkerProcess;
let connection: Connection;
let metricsAddress: string;
let collector: Server;
/** Spans the worker exported, as OTLP/HTTP JSON bodies carry them. */
const spans: { name: string; traceId: string; spanId: string; parentSpanId?: string }[] = [];

/** A minimal OTLP/HTTP trace receiver: what a collector sees, no more. */
function startCollector(): Promise<string> {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const rs of body.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) => collector.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`)));
}

beforeAll(async () => {
  stack = await startLocalStack({ inProgressMs: 300 });
  metricsAddress = `127.0.0.1:${await freePort()}`;
  const tracesEndpoint = await startCollector();
  worker = await spawnWorkerProcess(
    {
      ...stack.env,
      BATCH_METRICS_ADDRESS: metricsAddress,
      BATCH_LOG_FORMAT: 'json',
      BATCH_LOG_LEVEL: 'DEBUG',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: tracesEndpoint,
      OTEL_BSP_SCHEDULE_DELAY: '200',
    },
    90_000,
    5_000_000,
  );
  connection = await Connection.connect({ address: stack.temporal.address });
}, 180_000);

afterAll(async () => {
  await connection?.close();
  await worker?.kill('SIGTERM');
  await stack?.stop();
  await new Promise((resolve) => collector?.close(resolve));
});

test('after a run the worker serves temporal_* metrics and logs JSON lines carrying run, shard and activity', async () => {
  await uploadCsv(stack.s3, 's3://datasets/observed.csv', sampleRows(200));
  const client = new Client({ connection });
  const handle = await client.workflow.start('batchRun', { taskQueue: TASK_QUEUE, workflowId: 'observed', args: [textRun('observed', { maxRecordsPerJob: 100 })] });
  await handle.result();

  const metrics = await (await fetch(`http://${metricsAddress}/metrics`)).text();
  expect(worker.output()).toContain(`Prometheus metrics on http://${metricsAddress}/metrics`);
  expect(metrics).toMatch(/^temporal_workflow_completed\{[^}]*workflow_type="batchRun"[^}]*\} 1$/m);
  expect(metrics).toMatch(/^temporal_activity_execution_latency_(bucket|count|sum)\{[^}]*activity_type="submitJob(InSlot)?"/m);
  expect(metrics).toMatch(/task_queue="bedrock-batch"/);

  const entries = worker
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const shardActivity = entries.find((e) => typeof e.activityType === 'string' && /^submitJob(InSlot)?$/.test(e.activityType) && typeof e.workflowId === 'string' && /^observed\/shard-1/.test(e.workflowId));
  expect(shardActivity).toMatchObject({ level: 'DEBUG', workflowType: 'bedrockJob', namespace: 'default', taskQueue: TASK_QUEUE });
  expect(shardActivity?.workflowRunId).toMatch(/^[0-9a-f-]{36}$/);
  expect(new Date(shardActivity?.time as string).getTime()).toBeGreaterThan(Date.now() - 600_000);
  const runLine = entries.find((e) => e.workflowId === 'observed' && e.workflowType === 'batchRun' && e.runId === handle.firstExecutionRunId);
  expect(runLine).toBeDefined();
});

test('with an OTLP endpoint set, the worker exports one trace per run: workflow, child and activity spans linked', async () => {
  // The run of the test above; its spans arrive within the batch processor's delay.
  const deadline = Date.now() + 30_000;
  const named = (name: string) => spans.filter((s) => s.name === name);
  while (Date.now() < deadline && (named('RunWorkflow:batchRun').length === 0 || named('RunActivity:collectShard').length < 2)) {
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(worker.output()).toContain('OpenTelemetry traces to http://127.0.0.1:');
  const [runSpan] = named('RunWorkflow:batchRun');
  expect(runSpan).toBeDefined();
  const inRun = spans.filter((s) => s.traceId === runSpan.traceId);
  const names = new Set(inRun.map((s) => s.name));
  for (const name of ['StartChildWorkflow:bedrockJob', 'RunWorkflow:bedrockJob', 'StartActivity:submitJobInSlot', 'RunActivity:submitJobInSlot', 'RunActivity:collectShard', 'RunActivity:finalizeRun']) {
    expect([...names]).toContain(name);
  }
  const ids = new Set(inRun.map((s) => s.spanId));
  const orphans = inRun.filter((s) => s !== runSpan && s.parentSpanId && !ids.has(s.parentSpanId));
  expect(orphans.map((s) => s.name)).toEqual([]);
});
