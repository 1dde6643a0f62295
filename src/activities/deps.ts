import type { BedrockClient } from '@aws-sdk/client-bedrock';
import type { S3Client } from '@aws-sdk/client-s3';
import type { RunDefaults } from '../core/runConfig';
import type { PriceTable } from '../core/cost';
import type { HubSettings } from '../io/huggingface';

/** Everything activities touch from outside, built once by the worker and passed in. */
export interface ActivityDeps {
  s3: S3Client;
  bedrock: BedrockClient;
  templatesDir: string;
  defaults: RunDefaults;
  prices: PriceTable;
  hub: HubSettings;
}
