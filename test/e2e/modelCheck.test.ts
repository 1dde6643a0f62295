import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityDeps } from '../../src/activities';
import { makeResolveRun } from '../../src/activities/resolveRun';
import { estimateRunInput } from '../../src/client/estimate';
import { loadPriceTable, loadRunDefaults } from '../../src/config';
import { DEFAULT_BATCH_CATALOG_FILE } from '../../src/models/batchCatalog';
import { RunInput } from '../../src/shared/types';
import { uploadCsv, sampleRows } from '../support/data';
import { TEMPLATES_DIR } from '../support/worker';
import { CREDENTIALS, Env, IN_BUCKET, OUT_BUCKET, startEnv } from '../emulator/helpers';

/** resolveRun and estimate against the emulator: the model is checked before the dataset is read or a file uploaded. */

let env: Env;
const clients: BedrockClient[] = [];
const DATA = `s3://${IN_BUCKET}/model-check/topics.csv`;
beforeAll(async () => {
  env = await startEnv();
  await uploadCsv(env.s3, DATA, sampleRows(20));
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await env?.stop();
});

const run = (modelId: string, extra: Partial<RunInput> = {}): RunInput => ({
  input: { s3Uri: DATA },
  task: 'text',
  promptId: 'joke_about_topic',
  modelId,
  outputUri: `s3://${OUT_BUCKET}/model-check`,
  roleArn: 'arn:aws:iam::123456789012:role/BedrockBatchRole',
  ...extra,
});

async function depsFor(opts: { region?: string; modelCatalogFile?: string } = {}): Promise<ActivityDeps> {
  const { emulator } = await env.start(opts);
  const bedrock = new BedrockClient({ endpoint: emulator.url, region: opts.region ?? 'us-east-1', credentials: CREDENTIALS });
  clients.push(bedrock);
  return { s3: env.s3, bedrock, templatesDir: TEMPLATES_DIR, defaults: loadRunDefaults(), prices: loadPriceTable(), hub: { endpoint: 'http://127.0.0.1:9' } };
}

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

test('an unknown id fails resolveRun at once, before the (missing) dataset is read, with close matches', async () => {
  const deps = await depsFor();
  const err = await failureOf(makeResolveRun(deps)(run('anthropic.claude-nonexistent-v9:0', { input: { s3Uri: `s3://${IN_BUCKET}/no/such.csv` } })));
  expect(err).toMatchObject({ type: 'UnknownModelError', nonRetryable: true });
  expect(err.message).toMatch(/^model "anthropic\.claude-nonexistent-v9:0" is not a Bedrock model id that config\/batch-models\.json .* close matches that run in batch in us-east-1: /);
});

test('the Region and the request format come from the catalog', async () => {
  const east = await depsFor();
  const wrongRegion = await failureOf(makeResolveRun(east)(run('mistral.mistral-large-2407-v1:0', { invocationType: 'Converse' })));
  expect(wrongRegion.message).toMatch(/does not run in batch in us-east-1 with its model id; batch runs it with its model id in us-west-2$/);
  const retired = await failureOf(makeResolveRun(east)(run('meta.llama2-13b-chat-v1')));
  expect(retired.message).toMatch(/is retired on Amazon Bedrock/);

  const west = await depsFor({ region: 'us-west-2' });
  const chatOnly = await failureOf(makeResolveRun(west)(run('mistral.mistral-large-2407-v1:0')));
  expect(chatOnly).toMatchObject({ type: 'UnknownModelError', nonRetryable: true });
  expect(chatOnly.message).toMatch(/takes the mistral-chat-completion request body through InvokeModel, which none of our adapters writes; run it with "invocationType": "Converse"$/);
  await expect(makeResolveRun(west)(run('mistral.mistral-large-2407-v1:0', { invocationType: 'Converse' }))).resolves.toMatchObject({ modelId: 'mistral.mistral-large-2407-v1:0' });
});

test('a model the catalog allows but Bedrock does not know fails with Bedrock\'s answer', async () => {
  const data = JSON.parse(readFileSync(DEFAULT_BATCH_CATALOG_FILE, 'utf8'));
  data.models = data.models.filter((m: { modelId: string }) => m.modelId !== 'amazon.nova-lite-v1:0' && m.modelId !== 'amazon.nova-micro-v1:0');
  const file = join(mkdtempSync(join(tmpdir(), 'catalog-')), 'batch-models.json');
  writeFileSync(file, JSON.stringify(data));
  const deps = await depsFor({ modelCatalogFile: file });

  const byId = await failureOf(makeResolveRun(deps)(run('amazon.nova-lite-v1:0')));
  expect(byId).toMatchObject({ type: 'UnknownModelError', nonRetryable: true });
  expect(byId.message).toBe(
    'Bedrock in us-east-1 does not know model "amazon.nova-lite-v1:0" (GetFoundationModel: ResourceNotFoundException: Could not resolve the foundation model from the provided model identifier.)',
  );
  const byProfile = await failureOf(makeResolveRun(deps)(run('us.amazon.nova-micro-v1:0')));
  expect(byProfile.message).toMatch(/^Bedrock in us-east-1 does not know model "us\.amazon\.nova-micro-v1:0" \(GetInferenceProfile: ResourceNotFoundException: /);
  await expect(makeResolveRun(deps)(run('us.anthropic.claude-3-5-haiku-20241022-v1:0'))).resolves.toMatchObject({ columns: expect.arrayContaining(['topic']) });
});

test('estimate refuses with the same message before uploading a local file', async () => {
  const deps = await depsFor();
  const dir = mkdtempSync(join(tmpdir(), 'estimate-'));
  const file = join(dir, 'local.csv');
  writeFileSync(file, readFileSync(resolve(__dirname, '../../samples/topics.csv')));
  const outputUri = `s3://${OUT_BUCKET}/estimate-refused`;
  const input = { ...run('anthropic.claude-3-5-haiku-20241022-v1:0'), input: { file }, outputUri };
  const err = await estimateRunInput(deps, input).catch((e: Error) => e);
  expect((err as Error).name).toBe('UnknownModelError');
  expect((err as Error).message).toMatch(/does not run in batch in us-east-1 with its model id.*use the cross-Region inference profile "us\.anthropic\.claude-3-5-haiku-20241022-v1:0"$/);
  const listed = await env.s3.send(new ListObjectsV2Command({ Bucket: OUT_BUCKET, Prefix: 'estimate-refused/' }));
  expect(listed.KeyCount ?? 0).toBe(0);
});
