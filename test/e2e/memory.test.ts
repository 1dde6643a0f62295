import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { loadRunDefaults } from '../../src/config';
import { MotoServer, startMotoServer } from '../../src/localstack';
import { createObjectWriter, createS3Client, ensureBucket, headObject } from '../../src/io/s3';
import { ResolvedRun } from '../../src/shared/types';
import { CREDENTIALS, REGION } from '../support/localStack';

const WORDS = 'the of and to in is was for on that with by as at from his her it an were are which this be or has had not but'.split(' ');

/** A SimpleCoT-like CSV (~1.5 KB a row), written to S3 in 1 MiB chunks: the test never holds it whole. */
async function writeCsv(s3: S3Client, uri: string, rows: number): Promise<void> {
  const writer = createObjectWriter(s3, uri, { contentType: 'text/csv' });
  let seed = rows;
  const word = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return WORDS[seed % WORDS.length];
  };
  const text = (n: number) => Array.from({ length: n }, word).join(' ');
  let chunk = 'source,target,rationale,task,type\n';
  for (let i = 0; i < rows; i++) {
    chunk += `"${text(150)}",${word()},"${text(70)}",task${i % 40},cot\n`;
    if (chunk.length > 1 << 20) {
      await writer.write(chunk);
      chunk = '';
    }
  }
  await writer.write(chunk);
  await writer.close();
}

let moto: MotoServer;
let s3: S3Client;

beforeAll(async () => {
  moto = await startMotoServer();
  s3 = createS3Client({ region: REGION, endpoint: moto.endpoint, forcePathStyle: true, credentials: CREDENTIALS });
  await ensureBucket(s3, 'data');
}, 60_000);

afterAll(async () => {
  s3?.destroy();
  await moto?.stop();
});

async function preprocessInChild(rows: number): Promise<{ rows: number; shards: number; maxRssBytes: number }> {
  const uri = `s3://data/cot-${rows}.csv`;
  await writeCsv(s3, uri, rows);
  const head = await headObject(s3, uri);
  const run: ResolvedRun = {
    ...loadRunDefaults(),
    runKey: `mem${rows}`,
    runName: 'mem',
    task: 'text',
    inputUri: uri,
    source: { s3Uri: uri },
    inputETag: head!.eTag,
    promptId: 'question_answering',
    template: 'Q: {source}',
    modelId: 'amazon.nova-lite-v1:0',
    invocationType: 'InvokeModel',
    modelParams: {},
    runUri: `s3://data/runs/mem${rows}`,
    roleArn: 'arn:aws:iam::123456789012:role/R',
    columns: ['source', 'target', 'rationale', 'task', 'type'],
  };
  const out = execFileSync(process.execPath, ['--import', 'tsx', resolve(__dirname, '../support/prepareChild.ts'), JSON.stringify(run)], {
    env: { ...process.env, AWS_ENDPOINT_URL_S3: moto.endpoint, AWS_REGION: REGION, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

test('preprocessing memory stays flat when the dataset triples, well past one shard of data', async () => {
  const small = await preprocessInChild(40_000);
  const large = await preprocessInChild(120_000);
  expect(small).toMatchObject({ rows: 40_000, shards: 1 });
  expect(large).toMatchObject({ rows: 120_000, shards: 3 });
  const mb = (b: number) => Math.round(b / 2 ** 20);
  // ~180 MB of CSV in the large case, over two shards' worth (50,000 records ≈ 75 MB each).
  expect(mb(large.maxRssBytes)).toBeLessThan(mb(small.maxRssBytes) * 1.25 + 40);
  expect(mb(large.maxRssBytes)).toBeLessThan(1024);
}, 300_000);
