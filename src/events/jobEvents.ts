import { DeleteMessageCommand, Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Client } from '@temporalio/client';
import { rootMessage } from '../shared/errors';
import { TERMINAL_JOB_STATUSES } from '../shared/jobNames';
import { JobStateChange, parseBatchJobStateChange } from './bedrockEvent';
import { signalShardWorkflows } from './shardSignals';

export interface JobEventsConsumerOptions {
  sqs: SQSClient;
  /** The queue an EventBridge rule sends Bedrock's "Batch Inference Job State Change" events to. */
  queueUrl: string;
  temporal: Client;
  log?: (line: string) => void;
  /** Long-poll wait of one receive, 1..20 s (SQS's maximum). */
  waitSeconds?: number;
}

export interface JobEventsStats {
  received: number;
  /** Signals accepted by shard workflows (or, for a pooled job, run workflows). */
  signalled: number;
  /** Deleted without a signal: not an event, not an end, or no running shard follows the job. */
  ignored: number;
  /** Kept for redelivery because Temporal or SQS failed while handling them. */
  failed: number;
}

export interface JobEventsConsumer {
  stats(): JobEventsStats;
  /** Ends the long poll under way and waits for the messages in hand. */
  stop(): Promise<void>;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * Reads job state-change events from SQS and signals the workflows (shards, or the run for a pooled
 * job) whose jobs ended. Not an activity: it runs beside the worker, needs no heartbeat, and holds
 * at most one receive (10 messages) at a time. A message is deleted only once its signal was accepted, or once it is
 * known to need none; otherwise SQS brings it back after its visibility timeout. A lost event
 * costs only time: the shard's safety-net poll still finds the job's end.
 */
export function startJobEventsConsumer(opts: JobEventsConsumerOptions): JobEventsConsumer {
  const { sqs, queueUrl, temporal } = opts;
  const log = opts.log ?? ((line: string) => console.log(line));
  const stats: JobEventsStats = { received: 0, signalled: 0, ignored: 0, failed: 0 };
  const abort = new AbortController();

  // Not aborted by stop: a message whose signal went out is deleted even while the worker stops.
  const remove = (m: Message) => sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));

  /** True when the message is dealt with (deleted); false when it is left to come back. */
  async function handle(m: Message): Promise<boolean> {
    stats.received++;
    try {
      let change: JobStateChange;
      try {
        change = parseBatchJobStateChange(m.Body ?? '');
      } catch (err) {
        // Deleted, so it is logged once rather than at every redelivery.
        log(`job events: deleted message ${m.MessageId}: not a Bedrock batch job state change (${(err as Error).message})`);
        stats.ignored++;
        await remove(m);
        return true;
      }
      // Only an end moves a shard on; the statuses before it need no signal (and no history).
      const result = TERMINAL_JOB_STATUSES.includes(change.status) ? await signalShardWorkflows(temporal, change) : undefined;
      if (!result || 'ignored' in result) {
        stats.ignored++;
        if (result) log(`job events: deleted the ${change.status} event of job ${change.jobName}: ${result.ignored}`);
      } else {
        stats.signalled += result.signalled.length;
      }
      await remove(m);
      return true;
    } catch (err) {
      stats.failed++;
      log(`job events: kept message ${m.MessageId} for redelivery: ${rootMessage(err)}`);
      return false;
    }
  }

  async function loop(): Promise<void> {
    // Consecutive failures, of receiving or of handling what was received: the backoff grows with them.
    let receiveFailures = 0;
    let handleFailures = 0;
    while (!abort.signal.aborted) {
      let messages: Message[];
      try {
        const got = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: opts.waitSeconds ?? 20 }),
          { abortSignal: abort.signal },
        );
        messages = got.Messages ?? [];
      } catch (err) {
        if (abort.signal.aborted) break;
        // One line when an outage starts, then every tenth failure: an outage must not flood the log.
        if (receiveFailures % 10 === 0) log(`job events: cannot receive from ${queueUrl}: ${rootMessage(err)}; retrying with backoff`);
        await sleep(backoffMs(++receiveFailures), abort.signal);
        continue;
      }
      if (receiveFailures > 0) log(`job events: receiving again after ${receiveFailures} failed attempt(s)`);
      receiveFailures = 0;
      const handled = await Promise.all(messages.map(handle));
      handleFailures = handled.every(Boolean) ? 0 : handleFailures + 1;
      // Temporal unreachable, say: the kept messages come back after their visibility timeout anyway.
      if (handleFailures > 0) await sleep(backoffMs(handleFailures), abort.signal);
    }
  }

  const running = loop();
  return {
    stats: () => ({ ...stats }),
    async stop() {
      abort.abort();
      await running;
    },
  };
}

function backoffMs(failures: number): number {
  return Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(failures, 6));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The worker process's consumer, when BATCH_JOB_EVENTS_QUEUE_URL names a queue (see AppConfig.jobEvents). */
export function startConfiguredJobEvents(
  settings: { queueUrl: string; region: string; endpoint?: string } | undefined,
  temporal: Client,
): JobEventsConsumer | undefined {
  if (!settings) return undefined;
  const sqs = new SQSClient({ region: settings.region, endpoint: settings.endpoint });
  const consumer = startJobEventsConsumer({ sqs, queueUrl: settings.queueUrl, temporal });
  console.log(`job events: reading ${settings.queueUrl}`);
  return {
    stats: consumer.stats,
    async stop() {
      await consumer.stop();
      sqs.destroy();
    },
  };
}
