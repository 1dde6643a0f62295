import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { runCli } from '../../src/client/cli';

/**
 * Histories recorded from real runs (test/histories, refreshed by the pipeline e2e test with
 * EXPORT_HISTORIES) must replay against the current workflow code: a change that would break
 * running workflows fails here, with no server needed.
 */
const DIR = join(__dirname, '../histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
let workflowBundle: { code: string };

beforeAll(async () => {
  // Each replay starts and stops a worker: at INFO the SDK logs every state change (~150 lines).
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const noop = () => undefined;
  workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../src/workflows'),
    logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: console.error },
  });
}, 60_000);

test('there are recorded histories to replay', () => {
  expect(files.length).toBeGreaterThanOrEqual(2);
});

test.each(files)('%s replays without nondeterminism', async (file) => {
  const { workflowId, history } = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { workflowId: string; history: unknown };
  await expect(Worker.runReplayHistory({ workflowBundle }, history, workflowId)).resolves.toBeUndefined();
});

test('our CLI replays a recorded history, and names the file it could not replay', async () => {
  const lines: string[] = [];
  const file = join(DIR, 'e2e-text-1__shard-0.json');
  await runCli(['replay', file], (l) => lines.push(l));
  expect(lines).toEqual([`${file}: replayed e2e-text-1/shard-0 without nondeterminism`]);
  // Under another workflow id the parent's child ids no longer match: replay must fail.
  await expect(runCli(['replay', join(DIR, 'e2e-text-1.json'), '--workflow-id', 'not-the-recorded-id'], () => undefined)).rejects.toThrow();
}, 120_000);
