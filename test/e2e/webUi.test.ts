import { Client } from '@temporalio/client';
import { startBatchRun } from '../../src/client/api';
import { waitFor } from '../../src/localstack';
import { progressQuery } from '../../src/shared/messages';
import { TASK_QUEUE } from '../../src/shared/types';
import { Browser, openBrowser, waitForFrameText } from '../support/browser';
import { sampleRows, uploadCsv } from '../support/data';
import { CLAUDE_HAIKU, localStackWithWorker, textRun } from '../support/runs';

/**
 * The operator's view: the real Temporal Web UI (served by the dev server) in headless Chromium.
 * Jobs take 4 s in the emulator, so the first run (3 jobs, one at a time) is still running while
 * its page is read.
 */
const env = localStackWithWorker({ ui: true, inProgressMs: 4_000 });
const NOVA = 'amazon.nova-lite-v1:0';
let browser: Browser;
let ui: string;

beforeAll(async () => {
  ui = `${env.stack.temporal.uiUrl}/namespaces/default`;
  await uploadCsv(env.stack.s3, 's3://datasets/ui-running.csv', sampleRows(300));
  browser = await openBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

async function list(client: Client, query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of client.workflow.list({ query })) ids.push(wf.workflowId);
  return ids.sort();
}

test('a running run shows its summary and current details; the list filters to parent runs of one model; a run started from the form completes', async () => {
  const { client } = env.worker;
  const { page } = browser;
  const running = await startBatchRun(client, textRun('ui-running', { maxRecordsPerJob: 100, maxConcurrentJobs: 1 }), { workflowId: 'ui-running' });
  // Another model's run, so the model filter has something to leave out.
  const other = await startBatchRun(client, textRun('ui-running', { modelId: NOVA, outputUri: 's3://results/ui-other', runName: 'ui-other', maxRecords: 100 }), {
    workflowId: 'ui-other',
  });
  await waitFor('ui-running to start its shards', async () => ((await running.query(progressQuery)).shardsStarted ?? 0) > 0, 30_000, 200);

  // 1. The running run's page: static summary and details, current details, child summaries.
  await page.goto(`${ui}/workflows/ui-running/${running.firstExecutionRunId}/user-metadata`);
  await page.getByText('Running', { exact: true }).first().waitFor();
  await waitForFrameText(page, [`batch text run · ${CLAUDE_HAIKU} · s3://datasets/ui-running.csv`]);
  await waitForFrameText(page, ['input', 's3://datasets/ui-running.csv', 'task', 'joke_about_topic']);
  await waitForFrameText(page, ['Batch run', /phase\s+running/, /shards\s+\d of 3 done · 1 running/, /rows\s+\d+ of 300 written/, 'cost', 'failures']);
  await page.getByText(/shard 0 of 3 · 100 rows · job ui-running-/).waitFor();
  await running.cancel();

  // 2. The list, filtered to parent runs of one model: this run, not its shards, not the other model's run.
  await other.result();
  const query = `BatchRole="run" AND BatchModel="${CLAUDE_HAIKU}"`;
  expect(await list(client, query)).toEqual(['ui-running']);
  expect(await list(client, 'WorkflowId STARTS_WITH "ui-"')).toEqual(expect.arrayContaining(['ui-other', 'ui-running', 'ui-running/shard-0']));
  await page.goto(`${ui}/workflows?query=${encodeURIComponent(query)}`);
  const table = page.locator('table');
  await table.getByText('ui-running', { exact: true }).waitFor();
  const listed = (await table.textContent()) ?? '';
  expect(listed).not.toContain('ui-other');
  expect(listed).not.toContain('/shard-');

  // 3. Start Workflow form: type, queue and JSON input, as the README says; the run completes.
  await uploadCsv(env.stack.s3, 's3://datasets/ui-form.csv', sampleRows(100));
  await page.goto(`${ui}/workflows/start-workflow`);
  await page.locator('#workflowId').fill('ui-form');
  await page.locator('#taskQueue').fill(TASK_QUEUE);
  await page.locator('#workflowType').fill('batchRun');
  await page.locator('.cm-content').click();
  // One insert: typed key by key, the editor would close brackets and quotes itself.
  await page.keyboard.insertText(JSON.stringify(textRun('ui-form')));
  await page.locator('input[value="json/plain"]').check();
  // Leaving the editor reformats the JSON over many lines and moves the button down: leave it first, then click.
  await page.getByRole('heading', { name: 'Start a Workflow' }).click();
  await page.locator('.cm-line').nth(5).waitFor();
  await page.getByTestId('start-workflow-button').click();
  await waitFor('ui-form to be started', async () => (await list(client, 'WorkflowId = "ui-form"')).length === 1, 15_000, 200);
  expect(await client.workflow.getHandle('ui-form').result()).toMatchObject({ outcome: 'complete', rows: 100 });
  await page.goto(`${ui}/workflows/ui-form`);
  await page.getByText('Completed', { exact: true }).first().waitFor();
}, 90_000);
