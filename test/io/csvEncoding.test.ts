import { BedrockClient } from '@aws-sdk/client-bedrock';
import { resolve } from 'node:path';
import { estimateRunInput } from '../../src/client/estimate';
import { loadPriceTable, loadRunDefaults } from '../../src/config';
import { BedrockEmulator, startBedrockEmulator } from '../../src/emulator';
import { CsvFormatError } from '../../src/io/csv';
import * as csvSplit from '../../src/io/csvSplit';
import { openSource, readSourceSchema } from '../../src/io/dataset';
import { writeObject } from '../../src/io/s3';
import { MotoS3, startMotoS3 } from './helpers';

/**
 * A CSV with a Latin-1 byte far past its first chunk fails every read of its rows with a CsvFormatError
 * naming the object, the line and the byte offset: read whole, in parts, and by the estimate; a bad byte in
 * the header fails the resolve-time header read.
 */
const BUCKET = 'datasets';
const ROWS = 40_000;
const BAD_ROW = 30_000;
const BIG = `s3://${BUCKET}/latin1.csv`;
const BAD_HEADER = `s3://${BUCKET}/latin1-header.csv`;
const TEMPLATES_DIR = resolve(__dirname, '../../templates');

let env: MotoS3 & { stop(): Promise<void> };
let emulator: BedrockEmulator;
let bedrock: BedrockClient;
let badOffset: number;

beforeAll(async () => {
  env = await startMotoS3(BUCKET);
  emulator = await startBedrockEmulator({ region: 'us-east-1', s3: { endpoint: env.server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } } });
  bedrock = new BedrockClient({ region: 'us-east-1', endpoint: emulator.url, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const lines = ['id,topic'];
  for (let i = 0; i < ROWS; i++) lines.push(i === BAD_ROW ? `${i},caf\xe9 culture` : `${i},topic number ${i}`);
  const bytes = Buffer.from(`${lines.join('\n')}\n`, 'latin1');
  badOffset = bytes.indexOf(0xe9);
  await writeObject(env.s3, BIG, bytes, 'text/csv');
  await writeObject(env.s3, BAD_HEADER, Buffer.from('id,caf\xe9\n1,x\n', 'latin1'), 'text/csv');
}, 60_000);

afterAll(async () => {
  bedrock?.destroy();
  await emulator?.close();
  await env?.stop();
});

const clients = () => ({ s3: env.s3, hub: { endpoint: 'http://127.0.0.1:9' } });
// Line 1 is the header: data row i is on line i + 2.
const badLine = `line ${BAD_ROW + 2}, byte offset `;

async function drain(rows: AsyncIterable<unknown[]>): Promise<number> {
  let n = 0;
  for await (const _ of rows) n++;
  return n;
}

test('the resolve-time header read', async () => {
  await expect(readSourceSchema(clients(), { s3Uri: BAD_HEADER })).rejects.toThrow(
    new CsvFormatError(`${BAD_HEADER}: invalid UTF-8 at line 1, byte offset 6: 0xE9 after "id,caf"; the file must be UTF-8 (convert it first, e.g. \`iconv -f latin1 -t utf-8\`)`),
  );
  // The big file's first chunk is fine: its header reads.
  expect((await readSourceSchema(clients(), { s3Uri: BIG })).schema.fields.map((f) => f.name)).toEqual(['id', 'topic']);
});

test('a CSV read whole', async () => {
  const opened = await openSource(clients(), { s3Uri: BIG });
  const err = await drain(opened.rows).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CsvFormatError);
  expect((err as Error).message).toContain(`${BIG}: invalid UTF-8 at ${badLine}${badOffset}: 0xE9 after "${BAD_ROW},caf"`);
});

describe('the estimate', () => {
  const deps = () => ({ s3: env.s3, bedrock, templatesDir: TEMPLATES_DIR, defaults: loadRunDefaults(), prices: loadPriceTable(), hub: { endpoint: 'http://127.0.0.1:9' } });
  const input = {
    input: { s3Uri: BIG },
    task: 'text' as const,
    promptId: 'joke_about_topic',
    modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
    modelParams: { maxTokens: 100 },
    outputUri: 's3://results/utf8',
    roleArn: 'arn:aws:iam::123456789012:role/BedrockBatchRole',
  };

  test('of a CSV read whole', async () => {
    await expect(estimateRunInput(deps(), input)).rejects.toThrow(`${BIG}: invalid UTF-8 at ${badLine}${badOffset}: 0xE9`);
  });

  test('of a CSV cut into byte ranges (parts)', async () => {
    const ranges = jest.spyOn(csvSplit, 'openCsvRange');
    await expect(estimateRunInput(deps(), { ...input, partBytes: 64 * 1024, maxRecordsPerJob: 1000 })).rejects.toThrow(`${BIG}: invalid UTF-8 at ${badLine}${badOffset}: 0xE9`);
    // Parts before the bad one were read as byte ranges too.
    expect(ranges.mock.calls.length).toBeGreaterThan(1);
    ranges.mockRestore();
  });
});
