/**
 * CPU-bound activities spread over worker processes: two real worker processes (src/worker.ts),
 * each with one CPU slot, run one run. Its histories show that both took preprocessing parts and
 * shard collects, and that neither ran two of them at once: a worker polls the CPU task queue only
 * while a slot is free, so a busy worker leaves the next part to the other.
 */
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { type HistoryEvent, eventMillis as millis } from '../support/historyEvents';
import { startBatchRun } from '../../src/client/api';
import type { RunInput } from '../../src/shared/types';
import { sampleRows, uploadCsv } from '../support/data';
import { LocalStack, startLocalStack } from '../support/localStack';
import { exportHistories, readRunOutput } from '../support/output';
import { partsPhaseOf } from '../support/partsPhase';
import { WorkerProcess, spawnWorkerProcess } from '../support/workerProcess';

const T = temporal.api.enums.v1.EventType;

let stack: LocalStack;
let connection: Connection;
let client: Client;
let workers: WorkerProcess[] = [];
const ROWS = 2400;
const CSV = 's3://datasets/cpu-queue.csv';

beforeAll(async () => {
  stack = await startLocalStack({ inProgressMs: 300 });
  await uploadCsv(stack.s3, CSV, sampleRows(ROWS));
  workers = await Promise.all([0, 1].map(() => spawnWorkerProcess({ ...stack.env, BATCH_CPU_SLOTS: '1', BATCH_PREPARE_THREADS: '0' })));
  connection = await Connection.connect({ address: stack.temporal.address });
  client = new Client({ connection });
}, 180_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill('SIGTERM')));
  await connection?.close();
  await stack?.stop();
});

interface Span {
  type: string;
  worker: string;
  start: number;
  end: number;
}

/** Each completed activity of the given types: who ran it, from start to completion. */
function activitySpans(events: HistoryEvent[], types: string[]): Span[] {
  const scheduled = new Map<number, string>();
  const started = new Map<number, { worker: string; at: number }>();
  const spans: Span[] = [];
  for (const e of events) {
    if (e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      const type = e.activityTaskScheduledEventAttributes?.activityType?.name ?? '';
      if (types.includes(type)) scheduled.set(Number(e.eventId), type);
    } else if (e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
      const a = e.activityTaskStartedEventAttributes;
      started.set(Number(a?.scheduledEventId), { worker: a?.identity ?? '?', at: millis(e) });
    } else if (e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
      const id = Number(e.activityTaskCompletedEventAttributes?.scheduledEventId);
      const type = scheduled.get(id);
      const start = started.get(id);
      if (type && start) spans.push({ type, worker: start.worker, start: start.at, end: millis(e) });
    }
  }
  return spans;
}

/** The largest number of spans of one worker that overlap at any instant. */
function mostAtOnce(spans: Span[]): number {
  const points = spans.flatMap((s) => [
    { at: s.start, d: 1 },
    { at: s.end, d: -1 },
  ]);
  // Ends before starts at the same instant: one activity ending as the next starts is not two at once.
  points.sort((a, b) => a.at - b.at || a.d - b.d);
  let now = 0;
  let most = 0;
  for (const p of points) {
    now += p.d;
    most = Math.max(most, now);
  }
  return most;
}

test('parts and collects spread over two worker processes, one at a time each', async () => {
  const input: RunInput = {
    input: { s3Uri: CSV },
    task: 'text',
    promptId: 'joke_about_topic',
    modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
    modelParams: { maxTokens: 100 },
    roleArn: 'arn:aws:iam::123456789012:role/BedrockBatchRole',
    outputUri: 's3://results/cpu-queue',
    maxRecordsPerJob: 200,
    maxConcurrentJobs: 12,
    pollIntervalSeconds: 1,
    partBytes: 20_000,
    prepareConcurrency: 6,
  };
  const handle = await startBatchRun(client, input);
  const summary = await handle.result();
  expect(summary.outcome).toBe('complete');
  const rows = await readRunOutput(stack.s3, summary.outputUris);
  expect(rows).toHaveLength(ROWS);
  expect(new Set(rows.map((r) => r.id)).size).toBe(ROWS);

  const runEvents = (await handle.fetchHistory()).events ?? [];
  const phase = partsPhaseOf(runEvents)!;
  expect(phase.parts).toBeGreaterThanOrEqual(4);
  expect(Object.keys(phase.byWorker)).toHaveLength(2);

  const spans = activitySpans(runEvents, ['preparePart']);
  for (let i = 0; i < summary.shards; i++) {
    const shard = client.workflow.getHandle(`${handle.workflowId}/shard-${i}`);
    spans.push(...activitySpans((await shard.fetchHistory()).events ?? [], ['collectShard']));
  }
  expect(spans.filter((s) => s.type === 'collectShard')).toHaveLength(summary.shards);
  const byWorker = new Map<string, Span[]>();
  for (const s of spans) byWorker.set(s.worker, [...(byWorker.get(s.worker) ?? []), s]);
  expect(byWorker.size).toBe(2);
  for (const [, mine] of byWorker) {
    expect(mine.some((s) => s.type === 'preparePart')).toBe(true);
    expect(mine.some((s) => s.type === 'collectShard')).toBe(true);
    expect(mostAtOnce(mine)).toBe(1);
  }
  exportHistories(stack.temporal.address, [handle.workflowId, `${handle.workflowId}/shard-0`], 'cpu-task-queue__');
}, 240_000);
