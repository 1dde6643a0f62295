import { randomUUID } from 'node:crypto';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { batchJobStateChangeEvent } from '../events/bedrockEvent';

/** Where the emulator publishes job state-change events: an SQS queue, as an EventBridge rule's target would receive them. */
export interface EventsOptions {
  sqsQueueUrl: string;
  /** The SQS endpoint (moto serves SQS beside S3); AWS's when unset. */
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export interface EventStats {
  published: number;
  /** Not published because a fault (dropNextEvents, dropAllEvents) lost them. */
  dropped: number;
  /** SendMessage failed (the queue's server down, say): lost as a real event would be. */
  failed: number;
}

export interface JobEventInput {
  jobArn: string;
  jobName: string;
  modelId: string;
  status: string;
  message?: string;
  submitTime: Date;
  at: Date;
}

/**
 * Sends each job's state changes as "Batch Inference Job State Change" events, the whole event as
 * the message body (what an EventBridge → SQS target delivers). Sends go one after another so the
 * queue sees a job's changes in order, and a slow queue never holds up the job engine.
 */
export class EventPublisher {
  private readonly sqs: SQSClient;
  private chain: Promise<void> = Promise.resolve();
  private counts: EventStats = { published: 0, dropped: 0, failed: 0 };

  constructor(
    private readonly opts: EventsOptions,
    private readonly where: { region: string; accountId: string },
  ) {
    this.sqs = new SQSClient({ region: opts.region ?? where.region, endpoint: opts.endpoint, credentials: opts.credentials });
  }

  publish(e: JobEventInput): void {
    const body = JSON.stringify(batchJobStateChangeEvent({ id: randomUUID(), region: this.where.region, accountId: this.where.accountId, ...e }));
    this.chain = this.chain.then(() =>
      this.sqs.send(new SendMessageCommand({ QueueUrl: this.opts.sqsQueueUrl, MessageBody: body })).then(
        () => void this.counts.published++,
        () => void this.counts.failed++,
      ),
    );
  }

  dropped(): void {
    this.counts.dropped++;
  }

  stats(): EventStats {
    return { ...this.counts };
  }

  resetStats(): void {
    this.counts = { published: 0, dropped: 0, failed: 0 };
  }

  /** Waits for the sends under way, then closes the client. */
  async close(): Promise<void> {
    await this.chain;
    this.sqs.destroy();
  }
}
