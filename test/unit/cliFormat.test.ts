import { bar, duration, etaMs, money, roundUsd, table } from '../../src/client/format';
import { normalizeRecordId, shardOfRow } from '../../src/client/lineage';
import { listQuery, sinceInstant } from '../../src/client/listQuery';
import { runView } from '../../src/client/runView';
import { stateKey, statusJson, statusLines, watchLine, watchScreen } from '../../src/client/statusFormat';
import type { PriceTable } from '../../src/core/cost';
import { type BatchRunProgress, emptyTotals } from '../../src/shared/types';

const prices: PriceTable = { currency: 'USD', pricesAsOf: '2025-01-01', source: 'test', batchDiscount: 0.5, models: { m: { inputPer1k: 1, outputPer1k: 2 } } };

test('money is rounded to cents, and a cost under half a cent is not shown as zero', () => {
  expect(money(0.18180000000000002)).toBe('$0.18');
  expect(money(12.345)).toBe('$12.35');
  expect(money(0)).toBe('$0.00');
  expect(money(0.001)).toBe('<$0.01');
  expect(money(undefined)).toBe('no price');
  expect(roundUsd(0.18180000000000002)).toBe(0.1818);
});

test('durations keep two units at most', () => {
  expect(duration(45_000)).toBe('45s');
  expect(duration(200_000)).toBe('3m 20s');
  expect(duration(2 * 3600_000 + 5 * 60_000)).toBe('2h 05m');
  expect(duration(3 * 86400_000 + 4 * 3600_000)).toBe('3d 04h');
});

test('the ETA follows the rate so far, and is unknown before anything is done and after everything is', () => {
  expect(etaMs(2, 10, 60_000)).toBe(240_000);
  expect(etaMs(0, 10, 60_000)).toBeUndefined();
  expect(etaMs(10, 10, 60_000)).toBeUndefined();
});

test('bars and tables', () => {
  expect(bar(1, 4, 8)).toBe('[##------]  25%');
  expect(bar(0, 0, 4)).toBe('[----]   0%');
  expect(table([['a', 'bb', 'c'], ['ccc', 'd', 'e']])).toEqual(['a    bb  c', 'ccc  d   e']);
});

test('list queries: parent runs by type, filters on the search attributes, since as a duration or a date', () => {
  const now = new Date('2025-03-10T12:00:00Z');
  expect(listQuery({}, now)).toBe('WorkflowType = "batchRun" AND ExecutionStatus != "ContinuedAsNew"');
  expect(listQuery({ status: 'failed', model: 'anthropic.claude-3-haiku-20240307-v1:0', since: '7d' }, now)).toBe(
    'WorkflowType = "batchRun" AND ExecutionStatus = "Failed" AND BatchModel = "anthropic.claude-3-haiku-20240307-v1:0" AND StartTime >= "2025-03-03T12:00:00.000Z"',
  );
  expect(listQuery({ phase: 'running', outcome: 'incomplete', status: 'Cancelled' }, now)).toBe(
    'WorkflowType = "batchRun" AND ExecutionStatus = "Canceled" AND BatchPhase = "running" AND BatchOutcome = "incomplete"',
  );
  expect(listQuery({ model: 'a"b' }, now)).toContain('BatchModel = "a\\"b"');
  expect(sinceInstant('2025-01-31', now).toISOString()).toBe('2025-01-31T00:00:00.000Z');
  expect(sinceInstant('12h', now).toISOString()).toBe('2025-03-10T00:00:00.000Z');
  expect(() => sinceInstant('last week', now)).toThrow(/--since takes a duration/);
  expect(() => listQuery({ status: 'stuck' }, now)).toThrow(/--status takes one of Running, Completed, Failed/);
});

function runningProgress(): BatchRunProgress {
  const totals = { ...emptyTotals(), shardsDone: 3, shardsFailed: 1, shardsSucceeded: 2, rows: 300, succeeded: 250, inputTokens: 10_000, outputTokens: 5_000, committedCostUsd: 0.18180000000000002 };
  return { phase: 'running', runKey: 'k', shardCount: 10, rowCount: 1000, shardsStarted: 5, shardsRunning: 2, totals };
}

test('a running run: shards pending/running/done/failed, rows, tokens, cost against the estimate, ETA from the shard rate', () => {
  const start = Date.parse('2025-03-10T12:00:00Z');
  const facts = {
    input: { modelId: 'm' } as never,
    prepared: { rowCount: 1000, shardCount: 10, shardManifestUri: 's3://x', estimate: { cost: { currency: 'USD', pricesAsOf: '', batchCost: 0.5 } } as never },
    runningSince: { timeMs: start, shardsDone: 0 },
  };
  const view = runView({ workflowId: 'w', status: 'RUNNING', progress: runningProgress(), retrying: [] }, facts, prices, start + 60_000);
  expect(view.shards).toEqual({ total: 10, pending: 5, running: 2, succeeded: 2, partial: 0, failed: 1, notSubmitted: 0 });
  // 3 shards in a minute: 7 left take 140 s.
  expect(view.etaMs).toBe(140_000);
  // 10k in at $1/1k + 5k out at $2/1k = $20 on demand, $10 in batch.
  expect(view.costUsd).toBe(10);
  const lines = statusLines(view);
  expect(lines).toContain('shards  3/10 done (1 failed), 2 running, 5 pending');
  expect(lines).toContain('rows    300/1,000');
  expect(lines).toContain('cost    $10.00 of ≤ $0.50 estimated; submitted jobs ≤ $0.18');
  expect(lines).toContain('eta     2m 20s');
  const json = JSON.parse(statusJson(view));
  expect(json).toMatchObject({ committedUsd: 0.1818, etaSeconds: 140, retrying: [] });
  expect(watchScreen(view)[1]).toMatch(/^shards {2}\[#######-+\] {2}30%/);
  expect(watchLine(view, new Date(start))).toBe('12:00:00 running  shards 3/10 done (1 failed), 2 running, 5 pending  rows 300/1,000  cost $10.00  eta 2m 20s');
});

test('stuck shards, the pooled job of small remainders and on-demand answers show in status, watch and --json', () => {
  const p: BatchRunProgress = {
    ...runningProgress(),
    shardStates: {
      counts: { 'waiting for a job slot': 2, 'submit retrying (access denied)': 1 },
      shards: [
        { shardIndex: 4, state: 'waiting for a job slot', since: '2025-03-10T12:00:00.000Z' },
        { shardIndex: 5, state: 'waiting for a job slot', since: '2025-03-10T12:00:01.000Z' },
        { shardIndex: 6, state: 'submit retrying (access denied)', since: '2025-03-10T12:00:02.000Z' },
      ],
    },
    gather: { shards: 3, records: 120, jobs: ['r-0123456789abcdef-gather-1'], waiting: 'pooled job waiting for a job slot (1 waiting ahead)' },
  };
  // 1k in at $1/1k + 500 out at $2/1k: $2 at the on-demand price (no batch discount).
  p.totals.onDemand = { answered: 30, rejected: 2, inputTokens: 1000, outputTokens: 500 };
  const view = runView({ workflowId: 'w', status: 'RUNNING', progress: p, retrying: [] }, { input: { modelId: 'm' } as never }, prices, 0);
  const lines = statusLines(view);
  expect(lines).toContain('waiting    2 shards for a job slot, 1 shard submit retrying (access denied)');
  expect(lines).toContain('gather     120 small-remainder records of 3 shards; pooled job r-0123456789abcdef-gather-1; pooled job waiting for a job slot (1 waiting ahead)');
  expect(lines).toContain('on demand  30 answered, 2 rejected, $2.00 at the on-demand price');
  expect(watchScreen(view)).toContain('waiting 2 shards for a job slot, 1 shard submit retrying (access denied)');
  expect(watchLine(view, new Date(0))).toContain('  waiting 2 shards for a job slot, 1 shard submit retrying (access denied)  gather pooled job waiting');
  const json = JSON.parse(statusJson(view));
  expect(json.shardStates).toEqual(p.shardStates);
  expect(json.gather).toEqual(p.gather);
  expect(json.onDemand).toEqual({ answered: 30, rejected: 2, costUsd: 2 });
  // A shard leaving its wait is a state change worth a log line.
  expect(stateKey(runView({ workflowId: 'w', status: 'RUNNING', progress: { ...p, shardStates: undefined } }, {}, prices, 0))).not.toBe(stateKey(view));

  // Ended: the summary's on-demand part, priced as the run priced it.
  const summary = { outcome: 'complete', modelId: 'm', shards: 3, rows: 300, succeeded: 300, failed: 0, inputTokens: 1, outputTokens: 1, failedShards: [], cost: { currency: 'USD', pricesAsOf: '', batchCost: 1 }, onDemand: { answered: 30, rejected: 0, inputTokens: 9, outputTokens: 9, cost: { currency: 'USD', pricesAsOf: '', onDemandCost: 0.0123456789 } } };
  const ended = runView({ workflowId: 'w', status: 'COMPLETED', summary: summary as never }, {}, prices, 0);
  expect(statusLines(ended)).toContain('on demand  30 answered, $0.01 at the on-demand price');
  expect(JSON.parse(statusJson(ended, summary as never)).onDemand).toEqual({ answered: 30, rejected: 0, costUsd: 0.012346 });
});

test('a state key changes with the shards, not with the ETA', () => {
  const view = runView({ workflowId: 'w', status: 'RUNNING', progress: runningProgress() }, {}, prices, 0);
  expect(stateKey({ ...view, etaMs: 5 })).toBe(stateKey({ ...view, etaMs: 9 }));
  const p = runningProgress();
  p.totals.shardsDone = 4;
  p.totals.shardsSucceeded = 3;
  expect(stateKey(runView({ workflowId: 'w', status: 'RUNNING', progress: p }, {}, prices, 0))).not.toBe(stateKey(view));
});

test('a failed run shows its root cause first, then the chain', () => {
  const view = runView({ workflowId: 'w', status: 'FAILED', failure: 'no such bucket', causeChain: 'Workflow execution failed: Activity task failed: no such bucket' }, {}, prices, 0);
  const lines = statusLines(view);
  expect(lines.findIndex((l) => l.startsWith('root cause'))).toBeLessThan(lines.findIndex((l) => l.startsWith('cause chain')));
  expect(lines).toContain('root cause   no such bucket');
});

test('a running run whose progress query got no answer says so', () => {
  expect(statusLines(runView({ workflowId: 'w', status: 'RUNNING' }, {}, prices, 0))).toContain('phase  unknown: the progress query got no answer (is a worker running?)');
});

test('record ids and the shard that holds a row', () => {
  expect(normalizeRecordId('42')).toBe('00000000042');
  expect(normalizeRecordId('00000000042')).toBe('00000000042');
  expect(() => normalizeRecordId('abc')).toThrow(/not a record id/);
  const shards = [{ records: 100 }, { records: 100 }, { records: 50 }].map((s, index) => ({ ...s, index, jsonlUri: '', snapshotUri: '' }));
  expect(shardOfRow(shards, 0)).toBe(0);
  expect(shardOfRow(shards, 99)).toBe(0);
  expect(shardOfRow(shards, 100)).toBe(1);
  expect(shardOfRow(shards, 249)).toBe(2);
  expect(shardOfRow(shards, 250)).toBeUndefined();
});
