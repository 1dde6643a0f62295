import { emulatedAnswerText, emulatedEmbedding } from '../../src/emulator';
import { startBatchRun } from '../../src/client/api';
import { resolveModelAdapter } from '../../src/models/registry';
import { ModelParams } from '../../src/models/types';
import { InvocationType, RunInput } from '../../src/shared/types';
import { sampleRows, uploadCsv } from '../support/data';
import { LocalStack, startLocalStack } from '../support/localStack';
import { readRunOutput } from '../support/output';
import { RunningWorker, startWorker } from '../support/worker';

let stack: LocalStack;
let worker: RunningWorker;
const rows = sampleRows(100);
const DATA = 's3://datasets/families.csv';

beforeAll(async () => {
  stack = await startLocalStack({ inProgressMs: 300 });
  worker = await startWorker(stack);
  await uploadCsv(stack.s3, DATA, rows);
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

interface Case {
  name: string;
  modelId: string;
  task: 'text' | 'embedding';
  params: ModelParams;
  invocationType?: InvocationType;
  dims?: number;
}

const cases: Case[] = [
  { name: 'claude', task: 'text', modelId: 'us.anthropic.claude-3-5-haiku-20241022-v1:0', params: { maxTokens: 300, system: 'Be brief.' } },
  { name: 'nova', task: 'text', modelId: 'amazon.nova-lite-v1:0', params: { maxTokens: 300, temperature: 0.5 } },
  // From us-east-1, batch runs Llama 3.1 only through the us. profile (config/batch-models.json).
  { name: 'llama', task: 'text', modelId: 'us.meta.llama3-1-8b-instruct-v1:0', params: { maxTokens: 300 } },
  { name: 'mistral', task: 'text', modelId: 'mistral.mistral-small-2402-v1:0', params: { maxTokens: 300 } },
  { name: 'converse-nova', task: 'text', modelId: 'us.amazon.nova-micro-v1:0', params: { maxTokens: 300 }, invocationType: 'Converse' },
  { name: 'converse-llama', task: 'text', modelId: 'us.meta.llama3-1-70b-instruct-v1:0', params: { maxTokens: 300 }, invocationType: 'Converse' },
  { name: 'titan', task: 'embedding', modelId: 'amazon.titan-embed-text-v2:0', params: { dimensions: 512 }, dims: 512 },
  { name: 'cohere', task: 'embedding', modelId: 'cohere.embed-english-v3', params: { inputType: 'search_document' }, dims: 1024 },
];

test.each(cases)('$name: a run on the local stack answers every row in the family shape', async (c) => {
  const input: RunInput = {
    input: { s3Uri: DATA },
    task: c.task,
    ...(c.task === 'text' ? { promptId: 'joke_about_topic' } : {}),
    modelId: c.modelId,
    invocationType: c.invocationType,
    modelParams: c.params,
    outputUri: `s3://results/families-${c.name}`,
    roleArn: 'arn:aws:iam::123456789012:role/BedrockBatchRole',
    maxRecordsPerJob: 100,
    pollIntervalSeconds: 1,
    runName: c.name,
  };
  const summary = await (await startBatchRun(worker.client, input)).result();
  expect(summary).toMatchObject({ rows: 100, succeeded: 100, failed: 0 });
  expect(summary.inputTokens).toBeGreaterThan(0);
  expect(summary.cost.batchCost).toBeGreaterThan(0);

  const adapter = resolveModelAdapter(c.modelId, c.invocationType);
  const out = new Map((await readRunOutput(stack.s3, summary.outputUris)).map((r) => [r.id as string, r]));
  const wrong = rows.flatMap((row) => {
    const o = out.get(row.id)!;
    if (c.task === 'text') {
      const request = adapter.buildRequest(`Tell me a short, family-friendly joke about ${row.topic}.`, c.params);
      const expected = emulatedAnswerText(c.modelId, request, c.invocationType);
      return o.response === expected ? [] : [`${row.id}: ${JSON.stringify(o.response)} != ${JSON.stringify(expected)}`];
    }
    const vector = Array.from((o.embedding as { toArray(): Float32Array }).toArray());
    const expected = emulatedEmbedding(c.modelId, adapter.buildRequest(row.input_text, c.params)).map(Math.fround);
    return vector.length === c.dims && vector.every((v, i) => v === expected[i]) ? [] : [`${row.id}: embedding differs`];
  });
  expect(wrong.slice(0, 3)).toEqual([]);
});
