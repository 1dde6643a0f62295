/**
 * `npm run bench -- [--rows N] [--sizes half,full]`: preprocessing throughput and peak memory on
 * a SimpleCoT look-alike against a local S3 server (moto). Each stage runs in its own process.
 * Prints a markdown table and writes it to .local/bench/results.md. Not a test: nothing asserts.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT, loadRunDefaults } from '../src/config';
import { startMotoServer } from '../src/localstack';
import { createS3Client, ensureBucket, headObject } from '../src/io/s3';
import { ResolvedRun } from '../src/shared/types';
import { COLUMNS, writeCsvToS3, writeParquetDatasetToS3 } from './generate';

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const TARGETS: Record<string, string> = { 'prep-csv': '2.2M rows ≤ 60 s, ≤ 1 GB', 'prep-parquet': '2.2M rows ≤ 60 s, ≤ 1 GB' };

interface Row {
  stage: string;
  rows: number;
  seconds?: number;
  mb?: number;
  maxRssMb?: number;
  cpuPerWall?: number;
  note?: string;
}

async function main() {
  const { values } = parseArgs({ options: { rows: { type: 'string' }, sizes: { type: 'string' } } });
  const full = Number(values.rows ?? 2_214_941);
  const sizes = (values.sizes ?? 'half,full').split(',').map((s) => (s === 'half' ? Math.floor(full / 2) : full));
  const moto = await startMotoServer();
  const s3 = createS3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true, credentials: CREDENTIALS });
  const env = { ...process.env, AWS_ENDPOINT_URL_S3: moto.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
  const template = readFileSync(resolve(REPO_ROOT, 'templates/question_answering.txt'), 'utf8');
  const results: Row[] = [];
  try {
    await ensureBucket(s3, 'bench');
    for (const n of sizes) {
      const csvUri = `s3://bench/simplecot-${n}.csv`;
      const parquetUri = `s3://bench/simplecot-${n}.parquet`;
      console.error(`generating ${n} rows…`);
      await writeCsvToS3(s3, csvUri, n);
      await writeParquetDatasetToS3(s3, parquetUri, n);
      for (const [stage, uri] of [['prep-csv', csvUri], ['prep-parquet', parquetUri]] as const) {
        const head = (await headObject(s3, uri))!;
        const run: ResolvedRun = {
          ...loadRunDefaults(),
          runKey: `${stage}-${n}`,
          runName: 'bench',
          task: 'text',
          inputUri: uri,
          source: { s3Uri: uri },
          inputETag: head.eTag,
          promptId: 'question_answering',
          template,
          modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
          invocationType: 'InvokeModel',
          modelParams: { maxTokens: 512 },
          runUri: `s3://bench/runs/${stage}-${n}`,
          roleArn: 'arn:aws:iam::123456789012:role/R',
          columns: [...COLUMNS],
        };
        console.error(`${stage} at ${n} rows…`);
        const out = execFileSync(process.execPath, ['--import', 'tsx', resolve(__dirname, 'stage.ts'), 'prep', JSON.stringify(run)], { env, encoding: 'utf8' });
        const r = JSON.parse(out.trim().split('\n').pop()!) as { rows: number; seconds: number; cpuSeconds: number; maxRssMb: number };
        results.push({ stage, rows: r.rows, seconds: r.seconds, mb: head.size / 2 ** 20, maxRssMb: r.maxRssMb, cpuPerWall: r.cpuSeconds / r.seconds });
      }
    }
  } finally {
    s3.destroy();
    await moto.stop();
  }
  for (const stage of ['post-text', 'post-embed']) results.push({ stage, rows: 0, note: 'not measured yet' });
  const table = [
    '| stage | rows | seconds | rows/s | MB/s (input) | peak RSS MB | CPU s / wall s | target |',
    '|---|---|---|---|---|---|---|---|',
    ...results.map((r) =>
      r.note
        ? `| ${r.stage} | | | | | | | ${r.note} |`
        : `| ${r.stage} | ${r.rows.toLocaleString('en-US')} | ${r.seconds!.toFixed(1)} | ${Math.round(r.rows / r.seconds!).toLocaleString('en-US')} | ${(r.mb! / r.seconds!).toFixed(1)} | ${r.maxRssMb} | ${r.cpuPerWall!.toFixed(2)} | ${TARGETS[r.stage] ?? ''} |`,
    ),
  ].join('\n');
  console.log(table);
  mkdirSync(resolve(REPO_ROOT, '.local/bench'), { recursive: true });
  writeFileSync(resolve(REPO_ROOT, '.local/bench/results.md'), `${table}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
