import { BedrockClient } from '@aws-sdk/client-bedrock';
import { resolve } from 'node:path';
import { planRunParts, preparePartFiles } from '../../src/activities/prepareParts';
import { makeResolveRun } from '../../src/activities/resolveRun';
import { estimateRunInput } from '../../src/client/estimate';
import { loadPriceTable, loadRunDefaults } from '../../src/config';
import { BedrockEmulator, startBedrockEmulator } from '../../src/emulator';
import { readParquetFromS3 } from '../../src/io/parquetRead';
import { ensureBucket, openObjectStream, readObjectText, writeObject } from '../../src/io/s3';
import type { RunInput } from '../../src/shared/types';
import { textRun } from '../support/runs';
import { MotoS3, startMotoS3 } from './helpers';

/**
 * Records of megabytes go through the estimate and preprocessing: a 2 MiB cell of letters without
 * whitespace (which made the Claude tokenizer trap with `unreachable`, failing both) and a 5 MiB quoted one with line breaks (over the fast CSV parser's 4 MiB
 * record bound, so csv-parse reads it) come out as JSONL lines and snapshot rows like any other.
 */
const BUCKET = 'datasets';
const ROWS = 200;
const URI = `s3://${BUCKET}/huge.csv`;
const MiB = 1024 * 1024;
const PROSE = 'lorem ipsum, dolor\nsit amet '.repeat(MiB / 5);
const LETTERS = 'x'.repeat(2 * MiB);
const CELLS: Record<number, string> = { 3: LETTERS, 4: `"${PROSE}"` };
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

let env: MotoS3 & { stop(): Promise<void> };
let emulator: BedrockEmulator;
let bedrock: BedrockClient;

beforeAll(async () => {
  env = await startMotoS3(BUCKET);
  await ensureBucket(env.s3, 'results');
  emulator = await startBedrockEmulator({ region: 'us-east-1', s3: { endpoint: env.server.endpoint, region: 'us-east-1', credentials: CREDENTIALS } });
  bedrock = new BedrockClient({ region: 'us-east-1', endpoint: emulator.url, credentials: CREDENTIALS });
  const lines = ['id,topic'];
  for (let i = 0; i < ROWS; i++) lines.push(`${i},${CELLS[i] ?? `topic ${i}`}`);
  await writeObject(env.s3, URI, `${lines.join('\n')}\n`, 'text/csv');
}, 60_000);

afterAll(async () => {
  bedrock?.destroy();
  await emulator?.close();
  await env?.stop();
});

const deps = () => ({ s3: env.s3, bedrock, templatesDir: resolve(__dirname, '../../templates'), defaults: loadRunDefaults(), prices: loadPriceTable(), hub: { endpoint: 'http://127.0.0.1:9' } });
const input: RunInput = textRun('huge', { input: { s3Uri: URI }, modelParams: { maxTokens: 100 }, maxRecordsPerJob: 100 });

test('the estimate counts every record', async () => {
  const estimate = await estimateRunInput(deps(), input);
  expect(estimate.records).toBe(ROWS);
  // 2 MiB of one letter and 5 MiB of prose are well over a million tokens.
  expect(estimate.inputTokens).toBeGreaterThan(1_000_000);
}, 120_000);

test('preprocessing writes the huge records as JSONL lines and snapshot rows', async () => {
  const run = await makeResolveRun(deps())(input);
  const { parts } = await planRunParts(deps(), run);
  const lines: string[] = [];
  let snapshotRows = 0;
  for (const part of parts) {
    const prepared = await preparePartFiles(deps(), run, part, [], () => undefined);
    const manifest = JSON.parse(await readObjectText(env.s3, prepared.manifestUri)) as { shards: Array<{ jsonlUri: string; snapshotUri: string }> };
    for (const shard of manifest.shards) {
      const chunks: Buffer[] = [];
      for await (const c of (await openObjectStream(env.s3, shard.jsonlUri)).body) chunks.push(c as Buffer);
      lines.push(...Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean));
      for await (const batch of readParquetFromS3(env.s3, shard.snapshotUri)) snapshotRows += batch.numRows;
    }
  }
  expect(lines).toHaveLength(ROWS);
  expect(snapshotRows).toBe(ROWS);
  const prompts = lines.map((l) => (JSON.parse(l) as { modelInput: { messages: Array<{ content: Array<{ text: string }> }> } }).modelInput.messages[0].content[0].text);
  expect(prompts[3]).toContain(CELLS[3]);
  expect(prompts[4]).toContain(PROSE);
}, 120_000);
