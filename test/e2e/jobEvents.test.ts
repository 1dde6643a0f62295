import { GetModelInvocationJobCommand } from '@aws-sdk/client-bedrock';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { Client, Connection } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import { startBatchRun } from '../../src/client/api';
import { batchJobStateChangeEvent } from '../../src/events/bedrockEvent';
import { startJobEventsConsumer } from '../../src/events/jobEvents';
import { waitFor } from '../../src/localstack';
import { sampleRows, uploadCsv } from '../support/data';
import { CREDENTIALS, LocalStack, REGION, startLocalStack } from '../support/localStack';
import { exportHistories } from '../support/output';
import { textRun } from '../support/runs';
import { startTcpProxy } from '../support/tcpProxy';
import { WorkerProcess, spawnWorkerProcess } from '../support/workerProcess';

/**
 * Job ends by event, polling as the safety net, on the real local stack: the emulator publishes
 * Bedrock's state-change events to a moto SQS queue, and the real worker process (its
 * BATCH_JOB_EVENTS_QUEUE_URL set) reads them and signals the shard workflows.
 */
let stack: LocalStack;
let worker: WorkerProcess;
let connection: Connection;
let client: Client;
let sqs: SQSClient;

beforeAll(async () => {
  stack = await startLocalStack({ jobEvents: true, inProgressMs: 1500 });
  worker = await spawnWorkerProcess(stack.env, 150_000);
  connection = await Connection.connect({ address: stack.temporal.address });
  client = new Client({ connection });
  sqs = new SQSClient({ region: REGION, endpoint: stack.moto.endpoint, credentials: CREDENTIALS });
}, 240_000);

afterAll(async () => {
  await worker?.kill('SIGTERM');
  sqs?.destroy();
  await connection?.close();
  await stack?.stop();
});

beforeEach(async () => {
  await setFaults({});
  stack.emulator.resetStats();
});

async function setFaults(faults: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${stack.emulator.url}/_emulator/faults`, { method: 'POST', body: JSON.stringify(faults) });
  expect(res.status).toBe(200);
}

async function historyEvents(workflowId: string): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  return (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
}

const scheduled = (events: temporal.api.history.v1.IHistoryEvent[], type: string) =>
  events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type);

const jobSignals = (events: temporal.api.history.v1.IHistoryEvent[]) =>
  events.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'jobStateChanged');

async function queueDepth(queueUrl = stack.eventsQueueUrl): Promise<number> {
  const { Attributes: a = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
}

test('events on, safety-net poll at its 900 s default: the job end reaches the shard within seconds of its event, and the run completes', async () => {
  await uploadCsv(stack.s3, 's3://datasets/ev-fast.csv', sampleRows(150));
  // No pollIntervalSeconds: the worker hears events, so the run resolves to jobEvents with the 900 s safety net.
  const input = textRun('ev-fast', { pollIntervalSeconds: undefined });
  const started = Date.now();
  const summary = await (await startBatchRun(client, input, { workflowId: 'ev-fast' })).result();
  expect(summary).toMatchObject({ outcome: 'complete', rows: 150, succeeded: 150 });
  // Polling alone would see the end only at the second poll, 900 s after the first.
  expect(Date.now() - started).toBeLessThan(60_000);

  const events = await historyEvents('ev-fast/shard-0');
  const polls = scheduled(events, 'waitForJob');
  // The poll (900 s between attempts), then the one check after the event.
  expect(polls).toHaveLength(2);
  expect(tsToMs(polls[0].activityTaskScheduledEventAttributes!.retryPolicy!.initialInterval)).toBe(900_000);
  expect(events.some((e) => e.activityTaskCancelRequestedEventAttributes)).toBe(true);
  const patches = events.flatMap((e) => e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads ?? []).map((p) => Buffer.from(p.data ?? []).toString());
  expect(patches.some((p) => p.includes('job-events'))).toBe(true);
  // Only the end is signalled: one signal for one job, however many statuses it went through.
  const signals = jobSignals(events);
  expect(signals).toHaveLength(1);

  const [job] = stack.emulator.stats().jobs;
  expect(stack.emulator.stats().events).toMatchObject({ published: 5, dropped: 0, failed: 0 });
  const described = await stack.bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: job.jobArn }));
  const lag = tsToMs(signals[0].eventTime) - described.endTime!.getTime();
  expect(lag).toBeGreaterThanOrEqual(0);
  expect(lag).toBeLessThan(2_500);
  // Every message was deleted: the statuses before the end at once, the end once its signal was accepted.
  await waitFor('the queue to drain', async () => (await queueDepth()) === 0, 10_000, 100);
  // Replay fixture of the event path: EXPORT_HISTORIES=test/histories npx jest test/e2e/jobEvents -t 'events on'
  exportHistories(stack.temporal.address, ['ev-fast/shard-0'], 'job-events__');
}, 120_000);

test("events on, 900 s safety net: a pooled gather job's end reaches the run workflow by event, and the run completes within a minute", async () => {
  await uploadCsv(stack.s3, 's3://datasets/ev-gather.csv', sampleRows(300));
  // Three shards of 100 each end PartiallyCompleted with 40 unanswered: one pooled job of 120 (not an `-a1`) takes them.
  await setFaults({ partialJobsNamed: ['-a1'], partialCutPercent: 60 });
  const input = textRun('ev-gather', { pollIntervalSeconds: undefined, maxRecordsPerJob: 120, maxConcurrentJobs: 3 });
  const started = Date.now();
  const summary = await (await startBatchRun(client, input, { workflowId: 'ev-gather' })).result();
  expect(summary).toMatchObject({ outcome: 'complete', rows: 300, succeeded: 300, unanswered: 0 });
  // Polling alone would see the pooled job's end only at its second poll, 900 s after the first.
  expect(Date.now() - started).toBeLessThan(60_000);
  const pooled = stack.emulator.stats().jobs.find((j) => j.jobName.endsWith('-gather-1'))!;
  expect(pooled).toMatchObject({ status: 'Completed', recordCount: 120 });

  // The run itself followed the pooled job: one signal (its end), the 900 s poll cancelled, one check.
  const events = await historyEvents('ev-gather');
  const signals = jobSignals(events);
  expect(signals).toHaveLength(1);
  const polls = scheduled(events, 'waitForJob');
  expect(polls).toHaveLength(2);
  expect(tsToMs(polls[0].activityTaskScheduledEventAttributes!.retryPolicy!.initialInterval)).toBe(900_000);
  expect(events.some((e) => e.activityTaskCancelRequestedEventAttributes)).toBe(true);
  const patches = events.flatMap((e) => e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads ?? []).map((p) => Buffer.from(p.data ?? []).toString());
  expect(patches.some((p) => p.includes('gather-job-events'))).toBe(true);
  const described = await stack.bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: pooled.jobArn }));
  const lag = tsToMs(signals[0].eventTime) - described.endTime!.getTime();
  expect(lag).toBeGreaterThanOrEqual(0);
  expect(lag).toBeLessThan(2_500);
  await waitFor('the queue to drain', async () => (await queueDepth()) === 0, 10_000, 100);
  expect(worker.output()).not.toMatch(/-gather-1 is not one this app named|no running run workflow follows pooled job/);
  // Replay fixture of a run following its pooled job by event: EXPORT_HISTORIES=test/histories npx jest test/e2e/jobEvents -t 'pooled gather'
  exportHistories(stack.temporal.address, ['ev-gather'], 'gather-events__');
}, 120_000);

test('every event dropped: the run still completes, by the safety-net poll alone', async () => {
  await uploadCsv(stack.s3, 's3://datasets/ev-lost.csv', sampleRows(150));
  await setFaults({ dropAllEvents: true });
  const summary = await (await startBatchRun(client, textRun('ev-lost', { pollIntervalSeconds: 2, jobEvents: true }), { workflowId: 'ev-lost' })).result();
  expect(summary).toMatchObject({ outcome: 'complete', rows: 150, succeeded: 150 });
  expect(stack.emulator.stats().events).toMatchObject({ published: 0, dropped: 5 });
  const events = await historyEvents('ev-lost/shard-0');
  expect(jobSignals(events)).toHaveLength(0);
  expect(events.some((e) => e.activityTaskCancelRequestedEventAttributes)).toBe(false);
  const polls = scheduled(events, 'waitForJob');
  expect(polls).toHaveLength(1);
  expect(tsToMs(polls[0].activityTaskScheduledEventAttributes!.retryPolicy!.initialInterval)).toBe(2_000);
}, 120_000);

test('malformed messages and events of jobs no run follows are deleted and logged once each', async () => {
  const completed = (jobName: string) =>
    JSON.stringify(
      batchJobStateChangeEvent({
        id: `id-${jobName}`,
        region: REGION,
        accountId: '123456789012',
        jobArn: `arn:aws:bedrock:${REGION}:123456789012:model-invocation-job/${jobName.slice(0, 12).padEnd(12, 'x')}`,
        jobName,
        modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
        status: 'Completed',
        submitTime: new Date(),
        at: new Date(),
      }),
    );
  const bodies = ['not json at all', JSON.stringify({ source: 'aws.s3', 'detail-type': 'Object Created' }), completed('someone-elses-job'), completed('gone-0123456789abcdef-s00003-a1'), completed('gone-0123456789abcdef-gather-2')];
  for (const body of bodies) await sqs.send(new SendMessageCommand({ QueueUrl: stack.eventsQueueUrl, MessageBody: body }));
  await waitFor('the queue to drain', async () => (await queueDepth()) === 0, 30_000, 200);
  const log = worker.output();
  const count = (re: RegExp) => (log.match(new RegExp(re.source, 'g')) ?? []).length;
  expect(count(/not a Bedrock batch job state change \(not JSON\)/)).toBe(1);
  expect(count(/not a Bedrock batch job state change \(not a "Batch Inference Job State Change" event of aws\.bedrock/)).toBe(1);
  expect(count(/event of job someone-elses-job: job someone-elses-job is not one this app named/)).toBe(1);
  expect(count(/no running shard workflow follows job gone-0123456789abcdef-s00003-a1/)).toBe(1);
  // A pooled job's name is this app's too: looked for among runs, not shards.
  expect(count(/no running run workflow follows pooled job gone-0123456789abcdef-gather-2/)).toBe(1);
  expect(count(/kept message/)).toBe(0);
}, 60_000);

test('the consumer rides out an SQS outage with backoff, logging it once, then reads on; it stops at once', async () => {
  // A queue of its own, reached through a proxy that can cut SQS off (the worker process reads the other queue).
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'outage-events' }))).QueueUrl!;
  const proxy = await startTcpProxy(stack.moto.port);
  const proxied = new SQSClient({ region: REGION, endpoint: proxy.endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
  const lines: string[] = [];
  const consumer = startJobEventsConsumer({ sqs: proxied, queueUrl, temporal: client, log: (l) => lines.push(l), waitSeconds: 1 });
  try {
    proxy.cutOff();
    await waitFor('a few failed receives', async () => lines.length > 0, 10_000, 50);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^job events: cannot receive from .*; retrying with backoff$/);
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'sent during the outage' }));
    proxy.resume();
    await waitFor('the message handled after the outage', async () => consumer.stats().ignored === 1, 30_000, 100);
    expect(await queueDepth(queueUrl)).toBe(0);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^job events: receiving again after \d+ failed attempt\(s\)$/),
      expect.stringMatching(/^job events: deleted message .*: not a Bedrock batch job state change \(not JSON\)$/),
    ]);
  } finally {
    const stopping = Date.now();
    await consumer.stop();
    expect(Date.now() - stopping).toBeLessThan(1_000);
    proxied.destroy();
    await proxy.close();
  }
}, 60_000);
