/** Bedrock's batch limits (per job: one input file per job here, so the file limit binds first). */
export interface ShardLimits {
  minRecords: number;
  maxRecords: number;
  maxFileBytes: number;
}

export const BEDROCK_LIMITS: ShardLimits = {
  minRecords: 100,
  maxRecords: 50_000,
  maxFileBytes: 1_000_000_000,
};

export class ShardPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShardPlanError';
  }
}

export interface ShardSink<T> {
  write(shard: number, item: T): void | Promise<void>;
  /** Called once per shard, after its last write, in shard order. */
  close(shard: number): void | Promise<void>;
}

export interface ShardSummary {
  index: number;
  records: number;
  bytes: number;
}

interface Pending<T> {
  shard: number;
  item: T;
  bytes: number;
}

/**
 * Cuts a stream of records into shards that all satisfy the limits, in one pass.
 *
 * Shards are contiguous runs of input order. With a known total the records are spread evenly
 * over the fewest shards; without one, shards fill to `maxRecords`. The byte limit can force an
 * earlier cut. To avoid a last shard under `minRecords` without holding shards in memory, the
 * last `minRecords` records are kept back: once a shard's successor has that many records the
 * shard can no longer change and is written out; at the end, a short last shard takes records
 * from the tail of the one before it. (Merging the two instead never helps: a shard is cut only
 * when full by count or bytes, so the pair would not fit in one job.)
 */
export class ShardSequencer<T> {
  private readonly queue: Pending<T>[] = [];
  private readonly counts: number[] = [];
  private readonly sizes: number[] = [];
  private assigned = 0;
  private written = -1;

  constructor(
    private readonly limits: ShardLimits,
    private readonly sink: ShardSink<T>,
    private readonly expectedTotal?: number,
  ) {
    if (limits.maxRecords < limits.minRecords) {
      throw new ShardPlanError(`maxRecords ${limits.maxRecords} is below the minimum of ${limits.minRecords} records per job`);
    }
  }

  async push(item: T, bytes: number): Promise<void> {
    if (bytes > this.limits.maxFileBytes) {
      throw new ShardPlanError(`record ${this.assigned} is ${bytes} bytes, over the ${this.limits.maxFileBytes}-byte limit of a Bedrock input file`);
    }
    const shard = this.shardFor(bytes);
    this.counts[shard] = (this.counts[shard] ?? 0) + 1;
    this.sizes[shard] = (this.sizes[shard] ?? 0) + bytes;
    this.assigned += 1;
    this.queue.push({ shard, item, bytes });
    if (this.queue.length > this.limits.minRecords) await this.emit(this.queue.shift()!);
  }

  async finish(): Promise<ShardSummary[]> {
    const last = this.counts.length - 1;
    if (last < 0) throw new ShardPlanError('the dataset has no rows');
    if (this.counts[last] < this.limits.minRecords) this.rebalanceTail(last);
    for (const pending of this.queue.splice(0)) await this.emit(pending);
    for (let s = this.written; s < this.counts.length; s++) if (s >= 0) await this.sink.close(s);
    return this.counts.map((records, index) => ({ index, records, bytes: this.sizes[index] }));
  }

  private shardFor(bytes: number): number {
    const current = this.counts.length - 1;
    if (current < 0) return this.open();
    const full = this.counts[current] >= this.targetFor(current);
    const tooBig = this.sizes[current] + bytes > this.limits.maxFileBytes;
    return full || tooBig ? this.open() : current;
  }

  private open(): number {
    this.counts.push(0);
    this.sizes.push(0);
    return this.counts.length - 1;
  }

  /** Even split of what is left over the fewest shards that can hold it. */
  private targetFor(shard: number): number {
    if (this.expectedTotal === undefined) return this.limits.maxRecords;
    const before = this.assigned - this.counts[shard];
    const remaining = Math.max(this.expectedTotal - before, 1);
    return Math.min(this.limits.maxRecords, Math.ceil(remaining / Math.ceil(remaining / this.limits.maxRecords)));
  }

  private rebalanceTail(last: number): void {
    const { minRecords, maxRecords, maxFileBytes } = this.limits;
    if (last === 0) {
      throw new ShardPlanError(`the dataset has ${this.counts[0]} rows; a Bedrock batch job needs at least ${minRecords} records`);
    }
    const prev = last - 1;
    const movable = this.queue.filter((p) => p.shard === prev);
    const need = minRecords - this.counts[last];
    const bytesToMove = movable.slice(movable.length - need).reduce((n, p) => n + p.bytes, 0);
    if (movable.length >= need && this.counts[prev] - need >= minRecords && this.sizes[last] + bytesToMove <= maxFileBytes) {
      for (const p of movable.slice(movable.length - need)) p.shard = last;
      this.counts[prev] -= need;
      this.counts[last] += need;
      this.sizes[prev] -= bytesToMove;
      this.sizes[last] += bytesToMove;
      return;
    }
    throw new ShardPlanError(
      `cannot split ${this.assigned} records into jobs of ${minRecords}..${maxRecords} records: ` +
        `the last job would have ${this.counts[last]}; raise maxRecordsPerJob or change the row count`,
    );
  }

  private async emit(pending: Pending<T>): Promise<void> {
    while (this.written < pending.shard) {
      if (this.written >= 0) await this.sink.close(this.written);
      this.written += 1;
    }
    await this.sink.write(pending.shard, pending.item);
  }
}
