import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startBatchRun } from '../../src/client/api';
import { runCli } from '../../src/client/cli';
import { estimateRunInput } from '../../src/client/estimate';
import { loadPriceTable, loadRunDefaults } from '../../src/config';
import { writeObject } from '../../src/io/s3';
import { RunInput } from '../../src/shared/types';
import { LocalStack, startLocalStack } from '../support/localStack';
import { readRunOutput } from '../support/output';
import { RunningWorker, TEMPLATES_DIR, startWorker } from '../support/worker';

let stack: LocalStack;
let worker: RunningWorker;
const sample = JSON.parse(readFileSync(resolve(__dirname, '../../samples/run-text.json'), 'utf8')) as RunInput;
const sampleRun: RunInput = { ...sample, pollIntervalSeconds: 1 };

beforeAll(async () => {
  stack = await startLocalStack({ inProgressMs: 300 });
  worker = await startWorker(stack);
  await writeObject(stack.s3, (sample.input as { s3Uri: string }).s3Uri, readFileSync(resolve(__dirname, '../../samples/topics.csv')));
  Object.assign(process.env, stack.env);
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

const deps = () => ({ s3: stack.s3, bedrock: stack.bedrock, templatesDir: TEMPLATES_DIR, defaults: loadRunDefaults(), prices: loadPriceTable(), hub: { endpoint: 'http://127.0.0.1:9' } });

test('estimate on the shipped sample prints records, jobs, tokens and cost, and submits nothing', async () => {
  const lines: string[] = [];
  await runCli(['estimate', '--input', resolve(__dirname, '../../samples/run-text.json')], (l) => lines.push(l));
  const table = lines.join('\n');
  expect(table).toMatch(/^records\s+300$/m);
  expect(table).toMatch(/^jobs \(shards\)\s+3$/m);
  expect(table).toMatch(/^input tokens\s+[\d,]+ /m);
  expect(table).toMatch(/^output tokens\s+≤ 90,000/m);
  expect(table).toMatch(/^batch cost\s+≤ \$\d+\.\d{4}/m);
  expect(stack.emulator.stats().createRequests).toBe(0);

  const dryRun: string[] = [];
  await runCli(['start', '--dry-run', '--input', JSON.stringify(sampleRun)], (l) => dryRun.push(l));
  expect(dryRun.join('\n')).toBe(table);
  expect(stack.emulator.stats().createRequests).toBe(0);
});

test('the end-of-run summary has the estimate beside the actual tokens and cost', async () => {
  const estimate = await estimateRunInput(deps(), sampleRun);
  const summary = await (await startBatchRun(worker.client, sampleRun, { workflowId: 'cost-actual' })).result();
  expect(summary.estimate!.inputTokens).toBe(estimate.inputTokens);
  expect(summary.estimate!.cost.batchCost).toBe(estimate.cost.batchCost);
  expect(summary.inputTokens).toBeGreaterThan(0);
  expect(summary.cost.batchCost).toBeGreaterThan(0);
  // Output was bounded by max tokens × records in the estimate; actual output is below it.
  expect(summary.outputTokens).toBeLessThanOrEqual(summary.estimate!.outputTokensMax);
  expect(summary.cost.batchCost!).toBeLessThanOrEqual(summary.estimate!.cost.batchCost!);
});

test('a budget stops submissions once the next job could pass it; every row is still in the output', async () => {
  const run: RunInput = { ...sampleRun, outputUri: 's3://results/budget', runName: 'budget' };
  const estimate = await estimateRunInput(deps(), run);
  expect(estimate.shards).toHaveLength(3);
  const budgetUsd = estimate.shards[0].batchCostMax + estimate.shards[1].batchCostMax / 2;
  stack.emulator.resetStats();

  const summary = await (await startBatchRun(worker.client, { ...run, budgetUsd }, { workflowId: 'cost-budget' })).result();
  expect(stack.emulator.stats().jobsCreated).toBe(1);
  expect(summary.budget).toMatchObject({ limitUsd: budgetUsd, shardsNotSubmitted: 2, rowsNotSubmitted: 200 });
  expect(summary.budget!.message).toMatch(/^budget of \$[\d.]+ reached/);
  expect(summary).toMatchObject({ rows: 300, succeeded: 100, failed: 200 });
  const out = await readRunOutput(stack.s3, summary.outputUris);
  expect(out).toHaveLength(300);
  expect(out.filter((r) => r.error_code === 'NOT_SUBMITTED_BUDGET')).toHaveLength(200);
});
