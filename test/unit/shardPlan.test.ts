import { ShardLimits, ShardPlanError, ShardSequencer, ShardSink } from '../../src/core/shardPlan';

/** Collects what the sequencer writes, checking the write/close protocol as it goes. */
class RecordingSink implements ShardSink<number> {
  shards: number[][] = [];
  closed: number[] = [];
  write(shard: number, item: number) {
    if (this.closed.includes(shard)) throw new Error(`write to closed shard ${shard}`);
    (this.shards[shard] ??= []).push(item);
  }
  close(shard: number) {
    if (this.closed.length !== shard) throw new Error(`closed ${shard} out of order`);
    this.closed.push(shard);
  }
}

async function plan(n: number, limits: ShardLimits, bytesOf: (i: number) => number = () => 10, expectedTotal?: number) {
  const sink = new RecordingSink();
  const seq = new ShardSequencer(limits, sink, expectedTotal);
  for (let i = 0; i < n; i++) await seq.push(i, bytesOf(i));
  const summaries = await seq.finish();
  return { sink, summaries };
}

const limits = (maxRecords: number, maxFileBytes = 1e12): ShardLimits => ({ minRecords: 100, maxRecords, maxFileBytes });

function expectContiguous(shards: number[][], n: number) {
  expect(shards.flat()).toEqual(Array.from({ length: n }, (_, i) => i));
}

describe('shard planning', () => {
  it('cuts 2,500 records at 500 into five full shards', async () => {
    const { sink, summaries } = await plan(2500, limits(500));
    expect(sink.shards.map((s) => s.length)).toEqual([500, 500, 500, 500, 500]);
    expect(sink.closed).toEqual([0, 1, 2, 3, 4]);
    expect(summaries.map((s) => s.records)).toEqual([500, 500, 500, 500, 500]);
    expectContiguous(sink.shards, 2500);
  });

  it('never leaves a last shard under the minimum', async () => {
    const { sink } = await plan(2550, limits(500));
    const sizes = sink.shards.map((s) => s.length);
    expect(sizes).toEqual([500, 500, 500, 500, 450, 100]);
    expectContiguous(sink.shards, 2550);
  });

  it('moves records from the previous shard to fill a short tail', async () => {
    const { sink } = await plan(250, limits(200));
    expect(sink.shards.map((s) => s.length)).toEqual([150, 100]);
    expectContiguous(sink.shards, 250);
  });

  it('fails clearly when no split can satisfy the limits', async () => {
    await expect(plan(250, limits(100))).rejects.toThrow(/cannot split 250 records into jobs of 100..100/);
  });

  it('balances shards when the total is known', async () => {
    const { sink } = await plan(1001, limits(500), () => 10, 1001);
    expect(sink.shards.map((s) => s.length)).toEqual([334, 334, 333]);
  });

  it('cuts by bytes before records when records are large', async () => {
    const { sink, summaries } = await plan(1000, limits(50_000, 30_000), () => 100);
    expect(sink.shards.map((s) => s.length)).toEqual([300, 300, 300, 100]);
    for (const s of summaries) expect(s.bytes).toBeLessThanOrEqual(30_000);
  });

  it('rejects datasets under the Bedrock minimum and oversized records', async () => {
    await expect(plan(99, limits(500))).rejects.toThrow(/the dataset has 99 rows; a Bedrock batch job needs at least 100 records/);
    await expect(plan(0, limits(500))).rejects.toThrow(/no rows/);
    await expect(plan(200, limits(500, 1000), (i) => (i === 150 ? 2000 : 10))).rejects.toThrow(ShardPlanError);
  });

  it('keeps at most minRecords records held back in memory', async () => {
    const sink = new RecordingSink();
    const seq = new ShardSequencer(limits(500), sink);
    for (let i = 0; i < 1000; i++) await seq.push(i, 10);
    expect(sink.shards.flat().length).toBe(900);
    await seq.finish();
    expect(sink.shards.flat().length).toBe(1000);
  });
});
