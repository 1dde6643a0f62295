/**
 * One benchmark stage in its own process, so peak RSS belongs to that stage alone.
 * argv: prep <ResolvedRun JSON>. Prints one JSON line.
 */
import { Schema } from 'apache-arrow';
import { scanDataset } from '../src/activities/datasetScan';
import { ShardTokenTally } from '../src/activities/prepareShards';
import { ShardFileSink } from '../src/activities/shardFiles';
import { hubSettingsFromEnv } from '../src/io/huggingface';
import { createS3Client, s3SettingsFromEnv } from '../src/io/s3';
import { ResolvedRun } from '../src/shared/types';

async function main() {
  const run = JSON.parse(process.argv[3]) as ResolvedRun;
  const s3 = createS3Client(s3SettingsFromEnv());
  const started = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const scan = await scanDataset({ s3, hub: hubSettingsFromEnv() }, run, (schema: Schema) => new ShardTokenTally(new ShardFileSink(s3, run.runUri, schema)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  process.stdout.write(
    `${JSON.stringify({ rows: scan.rowCount, shards: scan.shards.length, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`,
  );
  s3.destroy();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
