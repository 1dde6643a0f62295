import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { RunDefaults } from './core/runConfig';
import { PriceTable, checkPriceTable } from './core/cost';
import { HubSettings, hubSettingsFromEnv } from './io/huggingface';
import { S3Settings, createS3Client, s3SettingsFromEnv } from './io/s3';
import { TemporalSettings, temporalSettingsFromEnv } from './temporalConnection';
import type { ActivityDeps } from './activities/deps';

/** Read once at the edge (worker, CLI) from the environment; everything deeper gets it passed in. */
export interface AppConfig {
  /** Address, namespace, TLS and API key from the envconfig profile and TEMPORAL_* (see temporalConnection.ts). */
  temporal: TemporalSettings;
  s3: S3Settings;
  /** `runtimeEndpoint`: bedrock-runtime's (InvokeModel, Converse) override, else the control plane's, so one emulator serves both. */
  bedrock: { region: string; endpoint?: string; runtimeEndpoint?: string };
  templatesDir: string;
  defaults: RunDefaults;
  prices: PriceTable;
  hub: HubSettings;
  /** Worker threads for preprocessing parts (0: in the activity's own thread). */
  prepareThreads: number;
  /** BATCH_CPU_SLOTS: CPU-bound activities the worker runs at once (default: prepareThreads, else one per core). */
  cpuSlots?: number;
  /** BATCH_JOB_EVENTS_QUEUE_URL: the SQS queue Bedrock's job state-change events are routed to, read by the worker (src/events). */
  jobEvents?: { queueUrl: string; region: string; endpoint?: string };
}

export const REPO_ROOT = resolve(__dirname, '..');

export function loadRunDefaults(file = resolve(REPO_ROOT, 'config/defaults.json')): RunDefaults {
  return JSON.parse(readFileSync(file, 'utf8')) as RunDefaults;
}

export function loadPriceTable(file = resolve(REPO_ROOT, 'config/prices.json')): PriceTable {
  return checkPriceTable(JSON.parse(readFileSync(file, 'utf8')), file);
}

export function loadAppConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const eventsQueueUrl = env.BATCH_JOB_EVENTS_QUEUE_URL || undefined;
  return {
    temporal: temporalSettingsFromEnv(env),
    s3: s3SettingsFromEnv(env),
    bedrock: {
      region,
      endpoint: env.AWS_ENDPOINT_URL_BEDROCK || env.AWS_ENDPOINT_URL || undefined,
      runtimeEndpoint: env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME || env.AWS_ENDPOINT_URL_BEDROCK || env.AWS_ENDPOINT_URL || undefined,
    },
    templatesDir: env.BATCH_TEMPLATES_DIR ?? resolve(REPO_ROOT, 'templates'),
    // A worker that hears job events resolves runs to wait on them (polling only as a safety net), unless the defaults file says otherwise.
    defaults: { jobEvents: eventsQueueUrl !== undefined, ...loadRunDefaults(env.BATCH_DEFAULTS_FILE) },
    prices: loadPriceTable(env.BATCH_PRICES_FILE),
    hub: hubSettingsFromEnv(env),
    jobEvents: eventsQueueUrl ? { queueUrl: eventsQueueUrl, region, endpoint: env.AWS_ENDPOINT_URL_SQS || env.AWS_ENDPOINT_URL || undefined } : undefined,
    prepareThreads: env.BATCH_PREPARE_THREADS === undefined ? availableParallelism() : Math.max(0, Number.parseInt(env.BATCH_PREPARE_THREADS, 10) || 0),
    ...(env.BATCH_CPU_SLOTS ? { cpuSlots: Math.max(1, Number.parseInt(env.BATCH_CPU_SLOTS, 10) || 1) } : {}),
  };
}

export function createBedrockClient(settings: AppConfig['bedrock'] & { credentials?: S3Settings['credentials'] }): BedrockClient {
  return new BedrockClient({ region: settings.region, endpoint: settings.endpoint, credentials: settings.credentials });
}

/**
 * The bedrock-runtime client for on-demand calls, built like the control-plane one. Over HTTP/1.1:
 * the SDK's default HTTP/2 handler exists for the bidirectional streaming operations, which we do
 * not use; InvokeModel and Converse are plain request/response (boto3 sends them over HTTP/1.1 too),
 * and the local emulator speaks HTTP/1.1. maxAttempts 1: the on-demand activity paces and retries
 * throttled calls itself, within its own bound, so the SDK must not add retries of its own.
 */
export function createBedrockRuntimeClient(
  settings: AppConfig['bedrock'] & { credentials?: S3Settings['credentials'] },
): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    region: settings.region,
    endpoint: settings.runtimeEndpoint ?? settings.endpoint,
    credentials: settings.credentials,
    requestHandler: new NodeHttpHandler(),
    maxAttempts: 1,
  });
}

export function activityDepsFrom(config: AppConfig): ActivityDeps {
  return {
    ...createAwsClients(config),
    templatesDir: config.templatesDir,
    defaults: config.defaults,
    prices: config.prices,
    hub: config.hub,
    ...(config.prepareThreads > 0 ? { threads: { threads: config.prepareThreads, s3: config.s3 } } : {}),
  };
}

export function createAwsClients(config: Pick<AppConfig, 's3' | 'bedrock'>) {
  return { s3: createS3Client(config.s3), bedrock: createBedrockClient(config.bedrock), bedrockRuntime: createBedrockRuntimeClient(config.bedrock) };
}
