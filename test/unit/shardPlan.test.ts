import { ShardLimits, ShardPlanError, ShardSequencer, ShardSink, planShards, shardSizesFrom } from '../../src/core/shardPlan';

/** Collects what the sequencer writes, checking the write/close protocol as it goes. */
class RecordingSink implements ShardSink<number> {
  shards: number[][] = [];
  closed: number[] = [];
  write(shard: number, item: number) {
    if (this.closed.includes(shard)) throw new Error(`write to closed shard ${shard}`);
    this.shards[shard] ??= [];
    this.shards[shard].push(item);
  }
  close(shard: number) {
    if (this.closed.length !== shard) throw new Error(`closed ${shard} out of order`);
    this.closed.push(shard);
  }
}

/** Sequences `n` records into the shards planned for them (or into `planned` record counts). */
async function plan(n: number, limits: ShardLimits, bytesOf: (i: number) => number = () => 10, planned?: Iterable<number>) {
  const sink = new RecordingSink();
  const seq = new ShardSequencer(limits, sink, planned ?? shardSizesFrom(planShards(n, limits)));
  for (let i = 0; i < n; i++) await seq.push(i, bytesOf(i));
  const summaries = await seq.finish();
  return { sink, summaries };
}

const limits = (maxRecords: number, maxFileBytes = 1e12): ShardLimits => ({ minRecords: 100, maxRecords, maxFileBytes });

function expectContiguous(shards: number[][], n: number) {
  expect(shards.flat()).toEqual(Array.from({ length: n }, (_, i) => i));
}

describe('planShards', () => {
  it('takes the fewest shards of at most maxRecords and sizes them evenly, larger first', () => {
    const split = planShards(1001, limits(500));
    expect(split).toEqual({ records: 1001, shards: 3 });
    expect([...shardSizesFrom(split)]).toEqual([334, 334, 333]);
    expect([...shardSizesFrom(planShards(2550, limits(500)))]).toEqual([425, 425, 425, 425, 425, 425]);
  });

  it('fails clearly when no split can satisfy the limits, saying what would', () => {
    expect(() => planShards(250, limits(100))).toThrow(/cannot split 250 records into jobs of 100..100 records: raise maxRecordsPerJob to at least 125 or change the row count \(200 or 300 rows would do\)/);
    expect(() => planShards(99, limits(500))).toThrow(/the dataset has 99 rows; a Bedrock batch job needs at least 100 records/);
    expect(() => planShards(0, limits(500))).toThrow(/no rows/);
  });

  it('resumes mid-split after the rows already written', () => {
    const split = { records: 1001, shards: 3 };
    expect([...shardSizesFrom(split, 334)]).toEqual([334, 333]);
    expect([...shardSizesFrom(split, 400)]).toEqual([268, 333]);
    expect([...shardSizesFrom(split, 1001)]).toEqual([]);
  });
});

describe('shard sequencing', () => {
  it('cuts 2,500 records at 500 into five full shards', async () => {
    const { sink, summaries } = await plan(2500, limits(500));
    expect(sink.shards.map((s) => s.length)).toEqual([500, 500, 500, 500, 500]);
    expect(sink.closed).toEqual([0, 1, 2, 3, 4]);
    expect(summaries.map((s) => s.records)).toEqual([500, 500, 500, 500, 500]);
    expectContiguous(sink.shards, 2500);
  });

  it('cuts exactly the planned shards', async () => {
    const { sink } = await plan(250, limits(200));
    expect(sink.shards.map((s) => s.length)).toEqual([125, 125]);
    expectContiguous(sink.shards, 250);
    const given = await plan(700, limits(500), () => 10, [300, 150, 250]);
    expect(given.sink.shards.map((s) => s.length)).toEqual([300, 150, 250]);
  });

  it('cuts nothing when nothing is planned (a retried part whose shards were all written)', async () => {
    const { sink, summaries } = await plan(0, limits(500), () => 10, shardSizesFrom({ records: 1000, shards: 2 }, 1000));
    expect(sink.shards).toEqual([]);
    expect(summaries).toEqual([]);
  });

  it('fails when the rows do not match the plan', async () => {
    await expect(plan(301, limits(500), () => 10, [300])).rejects.toThrow(/more than the 300 rows planned/);
    await expect(plan(299, limits(500), () => 10, [300])).rejects.toThrow(/ended after 299 rows where more were planned/);
  });

  it('cuts by bytes before records when records are large', async () => {
    const { sink, summaries } = await plan(1000, limits(50_000, 30_000), () => 100);
    expect(sink.shards.map((s) => s.length)).toEqual([300, 300, 300, 100]);
    for (const s of summaries) expect(s.bytes).toBeLessThanOrEqual(30_000);
  });

  it('gives a short last file of a planned shard records from the one before it', async () => {
    const { sink, summaries } = await plan(1200, limits(600, 50_000), () => 100, [550, 650]);
    // Each planned shard is cut at 500 records by bytes; 50 left over take 50 from the file before.
    expect(sink.shards.map((s) => s.length)).toEqual([450, 100, 500, 150]);
    for (const s of summaries) expect(s.bytes).toBeLessThanOrEqual(50_000);
    expectContiguous(sink.shards, 1200);
  });

  it('rejects oversized records', async () => {
    await expect(plan(200, limits(500, 1000), (i) => (i === 150 ? 2000 : 10))).rejects.toThrow(ShardPlanError);
  });

  it('keeps at most minRecords records held back in memory', async () => {
    const sink = new RecordingSink();
    const seq = new ShardSequencer(limits(500), sink, [500, 500]);
    for (let i = 0; i < 1000; i++) await seq.push(i, 10);
    expect(sink.shards.flat().length).toBe(900);
    await seq.finish();
    expect(sink.shards.flat().length).toBe(1000);
  });
});
