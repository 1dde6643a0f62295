import { Client, Connection, WorkflowExecutionInfo } from '@temporalio/client';
import { startBatchRun } from '../../src/client/api';
import { startTemporalDevServer, waitFor } from '../../src/localstack';
import { ensureBatchSearchAttributes } from '../../src/searchAttributeSetup';
import { BATCH_MODEL, BATCH_OUTCOME, BATCH_PHASE, BATCH_ROLE, BATCH_ROWS_DONE, BATCH_RUN_KEY, BATCH_SEARCH_ATTRIBUTES } from '../../src/shared/searchAttributes';
import { sampleRows, uploadCsv } from '../support/data';
import { exportHistories } from '../support/output';
import { CLAUDE_HAIKU, localStackWithWorker, textRun } from '../support/runs';

const env = localStackWithWorker({ inProgressMs: 300 });

async function list(client: Client, query: string): Promise<WorkflowExecutionInfo[]> {
  const found: WorkflowExecutionInfo[] = [];
  for await (const wf of client.workflow.list({ query })) found.push(wf);
  return found;
}

/** Visibility lags the history a little: poll until the query returns `count` workflows. */
async function listUntil(client: Client, query: string, count: number): Promise<WorkflowExecutionInfo[]> {
  let found: WorkflowExecutionInfo[] = [];
  const probe = async () => {
    found = await list(client, query);
    return found.length === count;
  };
  await waitFor(`${count} workflow(s) for ${query}`, probe, 15_000, 200).catch((err) => {
    throw new Error(`${(err as Error).message}; last answer: ${found.map((w) => w.workflowId).join(', ') || 'none'}`);
  });
  return found;
}

test('a run and its shards carry typed search attributes, across continue-as-new, and show static and current details', async () => {
  const { client } = env.worker;
  await uploadCsv(env.stack.s3, 's3://datasets/sa-run.csv', sampleRows(300));
  // 3 shards, 2 per page: the run continues as new once, and must still be found by its attributes.
  const handle = await startBatchRun(client, textRun('sa-run', { maxRecordsPerJob: 100, shardsPerPage: 2 }), { workflowId: 'sa-run' });
  const summary = await handle.result();
  expect(summary).toMatchObject({ outcome: 'complete', shards: 3, rows: 300 });

  const [run] = await listUntil(client, `BatchRole = "run" AND BatchOutcome = "complete" AND BatchRunKey = "${summary.runKey}"`, 1);
  expect(run.workflowId).toBe('sa-run');
  const attrs = run.typedSearchAttributes;
  expect([attrs.get(BATCH_ROLE), attrs.get(BATCH_MODEL), attrs.get(BATCH_PHASE), attrs.get(BATCH_OUTCOME), attrs.get(BATCH_ROWS_DONE)]).toEqual([
    'run', CLAUDE_HAIKU, 'done', 'complete', 300,
  ]);
  expect(run.runId).not.toBe(handle.firstExecutionRunId); // it did continue as new

  const shards = await listUntil(client, `ParentWorkflowId = "sa-run"`, 3);
  for (const shard of shards) {
    expect([shard.typedSearchAttributes.get(BATCH_ROLE), shard.typedSearchAttributes.get(BATCH_RUN_KEY), shard.typedSearchAttributes.get(BATCH_MODEL)]).toEqual([
      'shard', summary.runKey, CLAUDE_HAIKU,
    ]);
  }
  // Parents only: none of the shards, however the model matches; both pages of the run (each execution is listed).
  const parents = await list(client, `BatchRole = "run" AND BatchModel = "${CLAUDE_HAIKU}" AND BatchRunKey = "${summary.runKey}"`);
  expect(parents.map((w) => `${w.workflowId} ${w.status.name}`).sort()).toEqual(['sa-run COMPLETED', 'sa-run CONTINUED_AS_NEW']);

  // Static summary and details from our client's start; the shard's from its parent.
  const first = await client.workflow.getHandle('sa-run', handle.firstExecutionRunId).describe();
  expect(await first.staticSummary()).toContain(CLAUDE_HAIKU);
  expect(await first.staticDetails()).toContain('| input | `s3://datasets/sa-run.csv` |');
  const shard0 = await client.workflow.getHandle('sa-run/shard-0').describe();
  expect(await shard0.staticSummary()).toMatch(/^shard 0 of 3 · 100 rows · job sa-run-[0-9a-f]+-s00000-a1$/);

  // Current details: what the UI's "Current Details" shows, read by the same built-in query.
  const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  expect(meta.currentDetails).toContain('| phase | done |');
  expect(meta.currentDetails).toContain('| shards | 3 of 3 done · 0 running · 0 failed or partial |');
  expect(meta.currentDetails).toMatch(/\| rows \| 300 of 300 written · 300 answered \|/);
  expect(meta.currentDetails).toMatch(/\| cost \| USD 0\.\d{4} so far/);
  const shardMeta = await client.workflow.getHandle('sa-run/shard-0').query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  expect(shardMeta.currentDetails).toMatch(/\| status \| Completed \|/);
  expect(shardMeta.currentDetails).toMatch(/\| job \| `arn:aws:bedrock:[^`]+` \|/);

  exportHistories(env.stack.temporal.address, ['sa-run', 'sa-run/shard-0'], 'search-attributes__');
}, 120_000);

test('the worker registers missing search attributes, and names the command when a type is wrong', async () => {
  const server = await startTemporalDevServer({ uiPort: false, searchAttributes: {} });
  const connection = await Connection.connect({ address: server.address });
  try {
    const names = async () => Object.keys((await connection.operatorService.listSearchAttributes({ namespace: 'default' })).customAttributes ?? {});
    expect(await names()).not.toContain('BatchRole');
    const logged: string[] = [];
    await ensureBatchSearchAttributes(connection.operatorService, 'default', (l) => logged.push(l));
    expect(await names()).toEqual(expect.arrayContaining(Object.keys(BATCH_SEARCH_ATTRIBUTES)));
    expect(logged.join('\n')).toMatch(/registered search attributes .*BatchRole/);
    await ensureBatchSearchAttributes(connection.operatorService, 'default', (l) => logged.push(l)); // already there: nothing to do
    expect(logged).toHaveLength(1);

    // BatchRowsDone registered as Keyword: runs would fail upserting a number, so the worker refuses to start.
    await connection.operatorService.removeSearchAttributes({ namespace: 'default', searchAttributes: ['BatchRowsDone'] });
    await connection.operatorService.addSearchAttributes({ namespace: 'default', searchAttributes: { BatchRowsDone: 2 } });
    await expect(ensureBatchSearchAttributes(connection.operatorService, 'default', () => undefined)).rejects.toThrow(
      /BatchRowsDone .* as Int.*temporal operator search-attribute create --namespace default --name BatchRowsDone --type Int/,
    );
  } finally {
    await connection.close();
    await server.stop();
  }
}, 60_000);
