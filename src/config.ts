import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { RunDefaults } from './core/runConfig';
import { PriceTable, checkPriceTable } from './core/cost';
import { HubSettings, hubSettingsFromEnv } from './io/huggingface';
import { S3Settings, createS3Client, s3SettingsFromEnv } from './io/s3';
import { TASK_QUEUE } from './shared/types';
import type { ActivityDeps } from './activities/deps';

/** Read once at the edge (worker, CLI) from the environment; everything deeper gets it passed in. */
export interface AppConfig {
  temporal: { address: string; namespace: string; taskQueue: string };
  s3: S3Settings;
  bedrock: { region: string; endpoint?: string };
  templatesDir: string;
  defaults: RunDefaults;
  prices: PriceTable;
  hub: HubSettings;
  /** Worker threads for preprocessing parts (0: in the activity's own thread). */
  prepareThreads: number;
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
  return {
    temporal: {
      address: env.TEMPORAL_ADDRESS ?? 'localhost:7233',
      namespace: env.TEMPORAL_NAMESPACE ?? 'default',
      taskQueue: env.TEMPORAL_TASK_QUEUE ?? TASK_QUEUE,
    },
    s3: s3SettingsFromEnv(env),
    bedrock: { region, endpoint: env.AWS_ENDPOINT_URL_BEDROCK || env.AWS_ENDPOINT_URL || undefined },
    templatesDir: env.BATCH_TEMPLATES_DIR ?? resolve(REPO_ROOT, 'templates'),
    defaults: loadRunDefaults(env.BATCH_DEFAULTS_FILE),
    prices: loadPriceTable(env.BATCH_PRICES_FILE),
    hub: hubSettingsFromEnv(env),
    prepareThreads: env.BATCH_PREPARE_THREADS === undefined ? availableParallelism() : Math.max(0, Number.parseInt(env.BATCH_PREPARE_THREADS, 10) || 0),
  };
}

export function createBedrockClient(settings: AppConfig['bedrock'] & { credentials?: S3Settings['credentials'] }): BedrockClient {
  return new BedrockClient({ region: settings.region, endpoint: settings.endpoint, credentials: settings.credentials });
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
  return { s3: createS3Client(config.s3), bedrock: createBedrockClient(config.bedrock) };
}
