import { gatherCostUsd, planGather } from '../../src/core/gatherPlan';
import { addShardOutcome, replaceShardOutcome } from '../../src/core/outcome';
import { type ShardOutcome, emptyTotals } from '../../src/shared/types';

const ref = (shardIndex: number, records: number, shardRows = 100) => ({ shardIndex, records, shardRows });

describe('planGather', () => {
  test('remainders reaching 100 together make one job, in shard order whatever order they came in', () => {
    expect(planGather([ref(2, 40), ref(0, 40), ref(1, 40)], 50_000)).toEqual({ groups: [{ n: 1, shardIndexes: [0, 1, 2], records: 120 }], left: [] });
  });

  test('under 100 together: no job, every shard is left', () => {
    expect(planGather([ref(0, 10), ref(1, 10), ref(2, 10)], 50_000)).toEqual({ groups: [], left: [0, 1, 2] });
  });

  test('jobs hold at most maxRecordsPerJob whole remainders; a last group under 100 is left', () => {
    expect(planGather([ref(0, 50), ref(1, 50), ref(2, 50)], 100)).toEqual({ groups: [{ n: 1, shardIndexes: [0, 1], records: 100 }], left: [2] });
    expect(planGather([ref(0, 90), ref(1, 90), ref(2, 90)], 180).groups.map((g) => g.records)).toEqual([180]);
    expect(planGather([ref(0, 99), ref(1, 99), ref(2, 99), ref(3, 99)], 200).groups.map((g) => g.shardIndexes)).toEqual([[0, 1], [2, 3]]);
  });

  test('empty remainders take no place', () => {
    expect(planGather([ref(0, 0), ref(1, 60), ref(2, 60)], 50_000).groups[0].shardIndexes).toEqual([1, 2]);
  });
});

test('gatherCostUsd takes each remainder\'s share of its shard\'s bound', () => {
  expect(gatherCostUsd([ref(0, 40), ref(1, 50, 200)], [1, 2])).toBeCloseTo(0.4 + 0.5);
  expect(gatherCostUsd([ref(0, 40)], undefined)).toBe(0);
});

const outcome = (o: Partial<ShardOutcome> & Pick<ShardOutcome, 'shardIndex' | 'status' | 'succeeded' | 'failed'>): ShardOutcome => ({
  attempts: 1,
  rows: 100,
  inputTokens: o.succeeded * 10,
  outputTokens: o.succeeded * 5,
  partUri: 's3://b/p',
  recordErrors: 0,
  unanswered: o.failed,
  batchCostUsd: o.succeeded / 100,
  ...o,
});

test('replaceShardOutcome counts a re-collected shard once, as it ended last', () => {
  const totals = emptyTotals();
  const before = outcome({ shardIndex: 1, status: 'partial', succeeded: 60, failed: 40, message: 'timed out' });
  addShardOutcome(totals, outcome({ shardIndex: 0, status: 'succeeded', succeeded: 100, failed: 0 }));
  addShardOutcome(totals, before);
  addShardOutcome(totals, outcome({ shardIndex: 2, status: 'failed', succeeded: 0, failed: 100, message: 'job failed' }));
  replaceShardOutcome(totals, before, outcome({ shardIndex: 1, status: 'succeeded', succeeded: 100, failed: 0 }));
  const fresh = emptyTotals();
  addShardOutcome(fresh, outcome({ shardIndex: 0, status: 'succeeded', succeeded: 100, failed: 0 }));
  addShardOutcome(fresh, outcome({ shardIndex: 2, status: 'failed', succeeded: 0, failed: 100, message: 'job failed' }));
  addShardOutcome(fresh, outcome({ shardIndex: 1, status: 'succeeded', succeeded: 100, failed: 0 }));
  expect(totals).toEqual(fresh);
  expect(totals).toMatchObject({ shardsDone: 3, rows: 300, succeeded: 200, unanswered: 100, shardsPartial: 0, partialShards: [], shardsSucceeded: 2 });
});
