/**
 * Runs the real preprocessing path (dataset scan → shard files on S3) in its own process and
 * prints its peak RSS, so a test can compare memory at two dataset sizes.
 * argv: <resolvedRun JSON>; env: AWS_ENDPOINT_URL_S3 and credentials.
 */
import { Schema } from 'apache-arrow';
import { ShardTokenTally, scanDataset } from '../../src/activities/datasetScan';
import { shardPaths } from '../../src/shared/paths';
import { ShardFileSink } from '../../src/activities/shardFiles';
import { createS3Client, s3SettingsFromEnv } from '../../src/io/s3';
import { ResolvedRun } from '../../src/shared/types';
import { hubSettingsFromEnv } from '../../src/io/huggingface';

async function main() {
  const run = JSON.parse(process.argv[2]) as ResolvedRun;
  const s3 = createS3Client(s3SettingsFromEnv());
  const scan = await scanDataset({ s3, hub: hubSettingsFromEnv() }, run, (schema: Schema) => new ShardTokenTally(new ShardFileSink(s3, schema, (shard) => shardPaths(run.runUri, shard))));
  process.stdout.write(`${JSON.stringify({ rows: scan.rowCount, shards: scan.shards.length, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
  s3.destroy();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
