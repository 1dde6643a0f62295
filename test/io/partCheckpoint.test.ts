import { BedrockClient } from '@aws-sdk/client-bedrock';
import { resolve } from 'node:path';
import { resumedShards } from '../../src/activities/partCheckpoint';
import { PartProgress, PartShard, planRunParts, preparePartFiles } from '../../src/activities/prepareParts';
import { makeResolveRun } from '../../src/activities/resolveRun';
import { loadPriceTable, loadRunDefaults } from '../../src/config';
import { BedrockEmulator, startBedrockEmulator } from '../../src/emulator';
import { ensureBucket, headObject, readObjectText } from '../../src/io/s3';
import { partProgressUri, partShardPaths } from '../../src/shared/paths';
import type { RunInput } from '../../src/shared/types';
import { sampleRows, uploadCsv } from '../support/data';
import { textRun } from '../support/runs';
import { MotoS3, startMotoS3 } from './helpers';

/**
 * A part of thousands of small shards (100 records a job) heartbeats a checkpoint's address and
 * counts, never the shards' entries: every heartbeat stays the same few hundred bytes, where the
 * entries inline (the previous heartbeat) grow ~270 bytes a shard toward Temporal's 2 MB limit.
 */
const SHARDS = 2000;
const ROWS = SHARDS * 100;
const URI = 's3://datasets/many-shards.csv';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

let env: MotoS3 & { stop(): Promise<void> };
let emulator: BedrockEmulator;
let bedrock: BedrockClient;

beforeAll(async () => {
  env = await startMotoS3('datasets');
  await ensureBucket(env.s3, 'results');
  emulator = await startBedrockEmulator({ region: 'us-east-1', s3: { endpoint: env.server.endpoint, region: 'us-east-1', credentials: CREDENTIALS } });
  bedrock = new BedrockClient({ region: 'us-east-1', endpoint: emulator.url, credentials: CREDENTIALS });
  await uploadCsv(env.s3, URI, sampleRows(ROWS));
}, 60_000);

afterAll(async () => {
  bedrock?.destroy();
  await emulator?.close();
  await env?.stop();
});

const deps = () => ({ s3: env.s3, bedrock, templatesDir: resolve(__dirname, '../../templates'), defaults: loadRunDefaults(), prices: loadPriceTable(), hub: { endpoint: 'http://127.0.0.1:9' } });
const input: RunInput = textRun('many-shards', { input: { s3Uri: URI }, modelParams: { maxTokens: 100 }, maxRecordsPerJob: 100 });
const size = (details: unknown) => Buffer.byteLength(JSON.stringify(details));

test(`a part of ${SHARDS} shards heartbeats under 2 KB each time, and a retry resumes from the checkpoint its last heartbeat names`, async () => {
  const run = await makeResolveRun(deps())(input);
  const { parts } = await planRunParts(deps(), run);
  expect(parts).toHaveLength(1);
  const part = parts[0];
  const progressUri = partProgressUri(run.runUri, part.index);

  // First attempt, checkpointing after every shard (the most heartbeats), lost halfway.
  const beats: PartProgress[] = [];
  const crash = new Error('worker lost');
  await expect(
    preparePartFiles(
      deps(),
      run,
      part,
      [],
      (progress) => {
        beats.push(progress);
        if (progress.shardsDone >= SHARDS / 2) throw crash;
      },
      { checkpointEveryMs: 0 },
    ),
  ).rejects.toBe(crash);
  const last = beats[beats.length - 1];
  expect(last.progressUri).toBe(progressUri);
  expect(last.shardsDone).toBeGreaterThanOrEqual(SHARDS / 2);

  // The retry reads the checkpoint the last heartbeat names and goes on from there.
  const resume = await resumedShards(env.s3, progressUri, part.index, last);
  expect(resume).toHaveLength(last.shardsDone);
  expect(resume.every((s) => s.records === 100)).toBe(true);
  const result = await preparePartFiles(deps(), run, part, resume, (progress) => beats.push(progress), { checkpointEveryMs: 0 });
  expect(result).toMatchObject({ rows: ROWS, shards: SHARDS });
  const shards = (JSON.parse(await readObjectText(env.s3, result.manifestUri)) as { shards: PartShard[] }).shards;
  // Every shard once, in order, the resumed ones as the first attempt wrote them.
  expect(shards.map((s) => s.jsonlUri)).toEqual(Array.from({ length: SHARDS }, (_, k) => partShardPaths(run.runUri, part.index, k).jsonl));
  expect(shards.every((s) => s.records === 100)).toBe(true);
  expect(shards.slice(0, resume.length)).toEqual(resume);

  // Every heartbeat: a few hundred bytes. The inline entries of the previous version: over half a megabyte here.
  const largest = Math.max(...beats.map(size));
  const inline = size({ done: shards, rows: ROWS });
  process.stdout.write(`${SHARDS} shards: ${beats.length} heartbeats of at most ${largest} bytes; inline entries would be ${inline} bytes; checkpoint ${(await headObject(env.s3, progressUri))?.size} bytes\n`);
  expect(largest).toBeLessThan(2048);
  expect(inline).toBeGreaterThan(500_000);
}, 600_000);
