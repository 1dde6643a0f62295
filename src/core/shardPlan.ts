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
  /** Of `records`: rows kept out of the job (over an input limit), when known. */
  rejected?: number;
}

interface Pending<T> {
  shard: number;
  item: T;
  bytes: number;
}

/**
 * How rows fall into shards: an even split of `records` over `shards`, larger shards first.
 * A run's split is planned once from its row count, before any row is read. A run of whole
 * shards taken from it is again an even split (of its rows over its shards, larger first), so a
 * preprocessing part is handed just these two numbers and cuts exactly the run's shards.
 */
export interface EvenSplit {
  records: number;
  shards: number;
}

export function shardRecords(split: EvenSplit, shard: number): number {
  const base = Math.floor(split.records / split.shards);
  return shard < split.records % split.shards ? base + 1 : base;
}

/**
 * The shards of a run of `records` rows: the fewest of at most maxRecords, evenly sized. Each then
 * has at least minRecords exactly when any split can (no k with k·min ≤ records ≤ k·max: fails).
 */
export function planShards(records: number, limits: Pick<ShardLimits, 'minRecords' | 'maxRecords'>): EvenSplit {
  const { minRecords, maxRecords } = limits;
  if (maxRecords < minRecords) throw new ShardPlanError(`maxRecords ${maxRecords} is below the minimum of ${minRecords} records per job`);
  if (records <= 0) throw new ShardPlanError('the dataset has no rows');
  if (records < minRecords) throw new ShardPlanError(`the dataset has ${records} rows; a Bedrock batch job needs at least ${minRecords} records`);
  const shards = Math.ceil(records / maxRecords);
  if (shards * minRecords > records) {
    // Between (shards-1)·max and shards·min: one shard fewer fits once jobs may be a little bigger.
    const fewer = shards - 1;
    throw new ShardPlanError(
      `cannot split ${records} records into jobs of ${minRecords}..${maxRecords} records: ` +
        `raise maxRecordsPerJob to at least ${Math.ceil(records / fewer)} or change the row count (${fewer * maxRecords} or ${shards * minRecords} rows would do)`,
    );
  }
  return { records, shards };
}

/** Record counts of a split's shards from row `skip` on (a retried part resumes after its written shards). */
export function* shardSizesFrom(split: EvenSplit, skip = 0): Generator<number> {
  for (let shard = 0; shard < split.shards; shard++) {
    const size = shardRecords(split, shard);
    if (skip >= size) {
      skip -= size;
      continue;
    }
    yield size - skip;
    skip = 0;
  }
}

/**
 * Cuts a stream of records into planned shards, in one pass, handing each record on as it comes.
 *
 * `plan` gives each planned shard's record count, in input order. A planned shard whose records
 * would pass the byte limit is cut there into more shards. To avoid a last piece under
 * `minRecords` without holding shards in memory, the last `minRecords` records are kept back:
 * once a shard's successor has that many records the shard can no longer change and is written
 * out; a short last piece takes records from the tail of the piece before it. (Merging the two
 * instead never helps: a piece is cut only when full by bytes, so the pair would not fit in one
 * file.) Rows beyond the plan, or fewer than it, fail: the plan was made from a row count.
 */
export class ShardSequencer<T> {
  // limits.maxRecords is the plan's business (planShards); here only the file limits apply.
  private readonly queue: Pending<T>[] = [];
  private readonly counts: number[] = [];
  private readonly sizes: number[] = [];
  private readonly plan: Iterator<number>;
  private planned = 0;
  private assigned = 0;
  private written = -1;
  /** Records the planned shard being filled still takes. */
  private left = 0;
  /** The first of the shards the planned shard being filled was cut into. */
  private pieceStart = 0;

  constructor(
    private readonly limits: ShardLimits,
    private readonly sink: ShardSink<T>,
    plan: Iterable<number>,
  ) {
    this.plan = plan[Symbol.iterator]();
  }

  async push(item: T, bytes: number): Promise<void> {
    if (bytes > this.limits.maxFileBytes) {
      throw new ShardPlanError(`record ${this.assigned} is ${bytes} bytes, over the ${this.limits.maxFileBytes}-byte limit of a Bedrock input file`);
    }
    if (this.left === 0) this.startPlanned();
    else if (this.sizes[this.counts.length - 1] + bytes > this.limits.maxFileBytes) this.open();
    const shard = this.counts.length - 1;
    this.counts[shard] += 1;
    this.sizes[shard] += bytes;
    this.assigned += 1;
    this.left -= 1;
    this.queue.push({ shard, item, bytes });
    if (this.queue.length > this.limits.minRecords) await this.emit(this.queue.shift()!);
  }

  async finish(): Promise<ShardSummary[]> {
    if (this.left > 0 || !this.plan.next().done) {
      throw new ShardPlanError(`the input ended after ${this.assigned} rows where more were planned`);
    }
    this.balancePieces();
    for (const pending of this.queue.splice(0)) await this.emit(pending);
    for (let s = this.written; s < this.counts.length; s++) if (s >= 0) await this.sink.close(s);
    return this.counts.map((records, index) => ({ index, records, bytes: this.sizes[index] }));
  }

  private startPlanned(): void {
    this.balancePieces();
    const next = this.plan.next();
    if (next.done) throw new ShardPlanError(`the input has more than the ${this.planned} rows planned`);
    this.planned += next.value;
    this.left = next.value;
    this.pieceStart = this.open();
  }

  private open(): number {
    this.counts.push(0);
    this.sizes.push(0);
    return this.counts.length - 1;
  }

  /** The planned shard just filled, if the byte limit cut it, must not end in a piece under the minimum. */
  private balancePieces(): void {
    const last = this.counts.length - 1;
    if (last <= this.pieceStart || this.counts[last] >= this.limits.minRecords) return;
    const { minRecords, maxFileBytes } = this.limits;
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
      `cannot cut ${this.counts[prev] + this.counts[last]} records into Bedrock input files of at most ${maxFileBytes} bytes ` +
        `and ${minRecords} records or more: the last would have ${this.counts[last]}; the records are too large`,
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
