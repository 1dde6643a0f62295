import { S3Client } from '@aws-sdk/client-s3';
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BedrockEmulator, startBedrockEmulator } from '../../src/emulator';
import { MotoServer, TemporalDevServer, startMotoServer, startTemporalDevServer } from '../../src/localstack';
import { S3Settings, createS3Client, ensureBucket } from '../../src/io/s3';
import { BATCH_SEARCH_ATTRIBUTES } from '../../src/shared/searchAttributes';

export const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
export const REGION = 'us-east-1';

export interface LocalStack {
  temporal: TemporalDevServer;
  moto: MotoServer;
  emulator: BedrockEmulator;
  s3: S3Client;
  s3Settings: S3Settings;
  bedrock: BedrockClient;
  /** Environment for a worker process pointed at this stack. */
  env: Record<string, string>;
  /** With `jobEvents`: the moto SQS queue the emulator publishes job state-change events to. */
  eventsQueueUrl?: string;
  stop(): Promise<void>;
}

/**
 * The real local stack: Temporal dev server (with the search attributes runs upsert; headless unless
 * `ui` asks for its Web UI), moto S3 server, and the Bedrock emulator, on free ports.
 */
export async function startLocalStack(
  opts: { inProgressMs?: number; hourMs?: number; buckets?: string[]; maxActiveJobsPerModel?: number; ui?: boolean; jobEvents?: boolean } = {},
): Promise<LocalStack> {
  const [temporal, moto] = await Promise.all([startTemporalDevServer({ uiPort: opts.ui ? undefined : false, searchAttributes: BATCH_SEARCH_ATTRIBUTES }), startMotoServer()]);
  // moto serves SQS beside S3: the queue stands in for an EventBridge rule's SQS target.
  const eventsQueueUrl = opts.jobEvents ? await createQueue(moto.endpoint, 'bedrock-job-events') : undefined;
  const emulator = await startBedrockEmulator({
    region: REGION,
    s3: { endpoint: moto.endpoint, region: REGION, credentials: CREDENTIALS },
    timing: { submittedMs: 50, validatingMs: 50, scheduledMs: 50, inProgressMs: opts.inProgressMs ?? 1500, ...(opts.hourMs ? { hourMs: opts.hourMs } : {}) },
    maxActiveJobsPerModel: opts.maxActiveJobsPerModel,
    ...(eventsQueueUrl ? { events: { sqsQueueUrl: eventsQueueUrl, endpoint: moto.endpoint, region: REGION, credentials: CREDENTIALS } } : {}),
  });
  const s3Settings = { region: REGION, endpoint: moto.endpoint, forcePathStyle: true, credentials: CREDENTIALS };
  const s3 = createS3Client(s3Settings);
  const bedrock = new BedrockClient({ region: REGION, endpoint: emulator.url, credentials: CREDENTIALS });
  for (const bucket of opts.buckets ?? ['datasets', 'results']) await ensureBucket(s3, bucket);
  const env = {
    TEMPORAL_ADDRESS: temporal.address,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: moto.endpoint,
    AWS_ENDPOINT_URL_BEDROCK: emulator.url,
    ...(eventsQueueUrl ? { AWS_ENDPOINT_URL_SQS: moto.endpoint, BATCH_JOB_EVENTS_QUEUE_URL: eventsQueueUrl } : {}),
  };
  return {
    temporal,
    moto,
    emulator,
    s3,
    s3Settings,
    bedrock,
    env,
    eventsQueueUrl,
    async stop() {
      s3.destroy();
      bedrock.destroy();
      await emulator.close();
      await Promise.all([temporal.stop(), moto.stop()]);
    },
  };
}

async function createQueue(endpoint: string, name: string): Promise<string> {
  const sqs = new SQSClient({ region: REGION, endpoint, credentials: CREDENTIALS });
  try {
    return (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
  } finally {
    sqs.destroy();
  }
}
