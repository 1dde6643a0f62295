/**
 * Runs the real preprocessing path (plan, then every part into shard files on S3, in this thread)
 * in its own process and prints its peak RSS, so a test can compare memory at two dataset sizes.
 * argv: <resolvedRun JSON>; env: AWS_ENDPOINT_URL_S3 and credentials.
 */
import { planRunParts, preparePartFiles } from '../../src/activities/prepareParts';
import { createS3Client, s3SettingsFromEnv } from '../../src/io/s3';
import { ResolvedRun } from '../../src/shared/types';
import { hubSettingsFromEnv } from '../../src/io/huggingface';

async function main() {
  const run = JSON.parse(process.argv[2]) as ResolvedRun;
  const s3 = createS3Client(s3SettingsFromEnv());
  const deps = { s3, hub: hubSettingsFromEnv() };
  let rows = 0;
  let shards = 0;
  for (const part of (await planRunParts(deps, run)).parts) {
    const prepared = await preparePartFiles(deps, run, part, [], () => undefined);
    rows += prepared.rows;
    shards += prepared.shards;
  }
  process.stdout.write(`${JSON.stringify({ rows, shards, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
  s3.destroy();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
