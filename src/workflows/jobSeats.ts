import { CancellationScope, condition, getExternalWorkflowHandle, isCancellation, log, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { jobSeatGrantedSignal, shardSeatSignal } from '../shared/messages';
import type { InFlightShard, ShardSeat } from '../shared/types';

/**
 * Marks histories in which a shard of a rolling window gives its seat back when its job ends, and
 * asks for one again before a re-drive. The run's limit counts Bedrock jobs, not shards: without
 * seats, a shard collecting its output (seconds, at scale) held its job slot idle.
 */
export const JOB_SEATS_PATCH = 'window-job-seats';

/** A shard waiting for a seat asks again this often, in case its ask was lost with a run that then closed. */
const ASK_AGAIN = '15 minutes';

/**
 * The run's side: which running shards hold a seat (have a Bedrock job, or are about to submit
 * one). A shard holds one from its start until it says its job ended; it asks again before a
 * re-drive and waits for a grant, which goes first to the shards that asked, in order, then to new
 * shards. Grants are sent while the run waits for anything, so a re-drive never waits for a page.
 */
export class JobSeats {
  /** Running shards without a seat: collecting, or waiting for one. */
  private readonly free = new Set<number>();
  /** Shards waiting for a seat, in the order they asked: shard index → its workflow id and ask. */
  private readonly wanting = new Map<number, { workflowId: string; ask: number }>();
  /** The last ask granted per shard: an ask crossing its grant in flight is not queued again. */
  private readonly lastGranted = new Map<number, number>();
  private readonly sending = new Set<Promise<void>>();

  constructor(
    /** Whether the shard is still one of the run's: asks and ends of others are ignored. */
    private readonly isRunning: (shardIndex: number) => boolean,
    private readonly limits: () => { maxConcurrentJobs: number; paused: boolean },
    private readonly runningShards: () => number,
    carried: InFlightShard[] = [],
  ) {
    for (const s of carried) {
      if (s.ask && s.seat !== 'wanted') this.lastGranted.set(s.shardIndex, s.ask);
      if (s.seat === undefined) continue;
      this.free.add(s.shardIndex);
      if (s.seat === 'wanted') this.wanting.set(s.shardIndex, { workflowId: s.workflowId, ask: s.ask ?? 1 });
    }
  }

  /** Hears the shards' seat signals and grants seats from now on. */
  listen(): void {
    setHandler(shardSeatSignal, ({ shardIndex, workflowId, seat, ask = 0 }) => {
      if (!this.isRunning(shardIndex)) return;
      const granted = this.lastGranted.get(shardIndex) ?? 0;
      // Asked again for a seat already granted: the grant may have been lost, so it goes again (the shard ignores a duplicate).
      if (seat === 'wanted' && ask === granted) return this.sendGrant(shardIndex, workflowId, ask);
      if (seat === 'wanted' && ask < granted) return;
      this.free.add(shardIndex);
      if (seat === 'wanted' && !this.wanting.has(shardIndex)) this.wanting.set(shardIndex, { workflowId, ask });
    });
    void this.grantInTurn();
  }

  /** Shards holding a seat: what the run's limit bounds. */
  get held(): number {
    return this.runningShards() - this.free.size;
  }

  /** Whether a new shard may start now: a seat is open and no running shard waits for one. */
  canStart(): boolean {
    const { maxConcurrentJobs, paused } = this.limits();
    return !paused && this.wanting.size === 0 && this.held < maxConcurrentJobs;
  }

  /** The shard ended: it holds nothing and waits for nothing. */
  forget(shardIndex: number): void {
    this.free.delete(shardIndex);
    this.wanting.delete(shardIndex);
    this.lastGranted.delete(shardIndex);
  }

  /** What a carried shard holds, for the next page. */
  seatOf(shardIndex: number): Pick<InFlightShard, 'seat' | 'ask'> {
    const wants = this.wanting.get(shardIndex);
    if (wants) return { seat: 'wanted', ask: wants.ask };
    const ask = this.lastGranted.get(shardIndex);
    return { ...(this.free.has(shardIndex) ? { seat: 'free' } : {}), ...(ask ? { ask } : {}) };
  }

  /** Waits until every grant sent so far is delivered (before continuing as new). */
  async delivered(): Promise<void> {
    while (this.sending.size) await Promise.all([...this.sending]);
  }

  private async grantInTurn(): Promise<void> {
    for (;;) {
      try {
        await condition(() => {
          const { maxConcurrentJobs, paused } = this.limits();
          return this.wanting.size > 0 && !paused && this.held < maxConcurrentJobs;
        });
      } catch (err) {
        // The run is cancelled: its shards are being cancelled too; none needs a seat any more.
        if (isCancellation(err)) return;
        throw err;
      }
      const [shardIndex, { workflowId, ask }] = this.wanting.entries().next().value as [number, { workflowId: string; ask: number }];
      this.wanting.delete(shardIndex);
      this.free.delete(shardIndex);
      this.lastGranted.set(shardIndex, ask);
      this.sendGrant(shardIndex, workflowId, ask);
    }
  }

  private sendGrant(shardIndex: number, workflowId: string, ask: number): void {
    const sent: Promise<void> = getExternalWorkflowHandle(workflowId)
      .signal(jobSeatGrantedSignal, { ask })
      // Closed meanwhile (its end comes by shardDone): the seat is freed when that end is applied.
      .catch((err: unknown) => log.warn('seat grant not delivered', { shardIndex, error: String(err) }))
      .finally(() => this.sending.delete(sent));
    this.sending.add(sent);
  }
}

/**
 * A shard's side: gives its seat back when its job has ended and asks for one before submitting
 * again. Only for shards of a rolling window (they tell the run's workflow id, whichever run is
 * current); a run gone for good (terminated) leaves nothing to honour, so the shard goes on.
 */
export class RunSeat {
  readonly enabled: boolean;
  private held = true;
  private asked = 0;
  private granted = 0;

  constructor(
    private readonly shardIndex: number,
    inWindow: boolean,
  ) {
    this.enabled = inWindow && patched(JOB_SEATS_PATCH);
    if (!this.enabled) return;
    setHandler(jobSeatGrantedSignal, ({ ask }) => {
      this.granted = Math.max(this.granted, ask);
    });
  }

  /** The job ended: the run may start another shard while this one collects. */
  async giveBack(): Promise<void> {
    if (!this.enabled || !this.held) return;
    this.held = false;
    await this.tell('free');
  }

  /** Before another job of this shard: waits for the run to grant a seat. */
  async takeAgain(): Promise<void> {
    if (!this.enabled || this.held) return;
    const ask = ++this.asked;
    for (;;) {
      if (!(await this.tell('wanted', ask))) break;
      if (await condition(() => this.granted >= ask, ASK_AGAIN)) break;
    }
    this.held = true;
  }

  /** False when the run could not be told (closed): then there is no window to wait for. */
  private async tell(seat: ShardSeat['seat'], ask?: number): Promise<boolean> {
    const { parent, workflowId } = workflowInfo();
    if (!parent) return false;
    try {
      await CancellationScope.nonCancellable(() => getExternalWorkflowHandle(parent.workflowId).signal(shardSeatSignal, { shardIndex: this.shardIndex, workflowId, seat, ask }));
      return true;
    } catch (err) {
      log.warn('could not tell the run about the job seat', { shardIndex: this.shardIndex, seat, error: String(err) });
      return false;
    }
  }
}
