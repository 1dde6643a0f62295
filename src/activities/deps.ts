import type { BedrockClient } from '@aws-sdk/client-bedrock';
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import type { RunDefaults } from '../core/runConfig';
import type { PriceTable } from '../core/cost';
import type { HubSettings } from '../io/huggingface';
import type { S3Settings } from '../io/s3';

/** Where CPU-heavy activities may run in worker threads of their own: how many, and how to reach S3 from there. */
export interface ThreadSettings {
  threads: number;
  s3: S3Settings;
}

/** Everything activities touch from outside, built once by the worker and passed in. */
export interface ActivityDeps {
  s3: S3Client;
  bedrock: BedrockClient;
  /** For on-demand calls on a shard's small remainder; a worker built without one refuses that option's activity. */
  bedrockRuntime?: BedrockRuntimeClient;
  templatesDir: string;
  defaults: RunDefaults;
  prices: PriceTable;
  hub: HubSettings;
  /** For the shared job-slot budget (starting and asking the quota workflow); without one, shards run without it. */
  temporal?: Client;
  /** Set: preprocessing parts run in worker threads (one per core), so one worker uses every core. */
  threads?: ThreadSettings;
}
