import { startBedrockEmulator } from './index';
import type { Timing } from './jobEngine';

/** Standalone emulator for `npm run emulator`; configured only through the environment. */

function num(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  return n;
}

function timingFromEnv(): Partial<Timing> {
  const timing: Partial<Timing> = {};
  const map: Array<[keyof Timing, string]> = [
    ['submittedMs', 'EMULATOR_SUBMITTED_MS'],
    ['validatingMs', 'EMULATOR_VALIDATING_MS'],
    ['scheduledMs', 'EMULATOR_SCHEDULED_MS'],
    ['inProgressMs', 'EMULATOR_INPROGRESS_MS'],
    ['perRecordMs', 'EMULATOR_PER_RECORD_MS'],
    ['hourMs', 'EMULATOR_HOUR_MS'],
  ];
  for (const [key, env] of map) {
    const v = num(env);
    if (v !== undefined) timing[key] = v;
  }
  return timing;
}

async function main(): Promise<void> {
  const env = process.env;
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  const s3Endpoint = env.AWS_ENDPOINT_URL_S3;
  const emulator = await startBedrockEmulator({
    host: env.EMULATOR_HOST ?? '127.0.0.1',
    port: num('EMULATOR_PORT') ?? 4599,
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    accountId: env.EMULATOR_ACCOUNT_ID,
    modelCatalogFile: env.EMULATOR_MODELS_FILE || undefined,
    s3: {
      endpoint: s3Endpoint,
      region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
      // A local S3 accepts any key; without this the SDK would fail looking for credentials.
      credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : s3Endpoint ? { accessKeyId: 'test', secretAccessKey: 'test' } : undefined,
    },
    timing: timingFromEnv(),
    shuffleOutput: env.EMULATOR_SHUFFLE_OUTPUT !== undefined ? env.EMULATOR_SHUFFLE_OUTPUT !== 'false' && env.EMULATOR_SHUFFLE_OUTPUT !== '0' : undefined,
    maxActiveJobsPerModel: num('EMULATOR_MAX_ACTIVE_JOBS'),
    defaultListPageSize: num('EMULATOR_LIST_PAGE_SIZE'),
    // Job state-change events to SQS, as an EventBridge rule would route them (off unless a queue is named).
    events: env.EMULATOR_EVENTS_QUEUE_URL
      ? {
          sqsQueueUrl: env.EMULATOR_EVENTS_QUEUE_URL,
          endpoint: env.AWS_ENDPOINT_URL_SQS || env.AWS_ENDPOINT_URL || s3Endpoint,
          region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
          credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : s3Endpoint ? { accessKeyId: 'test', secretAccessKey: 'test' } : undefined,
        }
      : undefined,
    onTransition: (e) =>
      console.log(`${e.at.toISOString()} ${e.jobName} ${e.jobArn} ${e.from ?? '-'} -> ${e.to}${e.message ? ` (${e.message})` : ''}`),
  });
  console.log(`Bedrock batch emulator listening on ${emulator.url} (S3: ${s3Endpoint ?? 'AWS default'})`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received, shutting down`);
    emulator.close().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
