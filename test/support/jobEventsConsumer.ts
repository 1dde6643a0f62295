import { SQSClient } from '@aws-sdk/client-sqs';
import type { Client } from '@temporalio/client';
import { type JobEventsConsumer, startJobEventsConsumer } from '../../src/events/jobEvents';
import { CREDENTIALS, type LocalStack, REGION } from './localStack';

export interface TestJobEventsConsumer extends JobEventsConsumer {
  /** What the consumer logged (ignored and kept messages, outages). */
  lines: string[];
}

/**
 * The job-events consumer a worker process runs when BATCH_JOB_EVENTS_QUEUE_URL is set, for a
 * stack made with `jobEvents` (startWorker's `jobEvents` option starts one beside its worker).
 * `stop` ends it and its SQS client.
 */
export function startTestJobEventsConsumer(stack: LocalStack, temporal: Client, opts: { waitSeconds?: number } = {}): TestJobEventsConsumer {
  if (!stack.eventsQueueUrl) throw new Error('the stack publishes no job events: start it with { jobEvents: true }');
  const sqs = new SQSClient({ region: REGION, endpoint: stack.moto.endpoint, credentials: CREDENTIALS });
  const lines: string[] = [];
  const consumer = startJobEventsConsumer({ sqs, queueUrl: stack.eventsQueueUrl, temporal, log: (l) => lines.push(l), waitSeconds: opts.waitSeconds ?? 5 });
  return {
    lines,
    stats: consumer.stats,
    async stop() {
      await consumer.stop();
      sqs.destroy();
    },
  };
}
