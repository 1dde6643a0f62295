import { CancellationScope, isCancellation, log, patched } from '@temporalio/workflow';
import { GatherGroup, RemainderRef, gatherCostUsd, planGather } from '../core/gatherPlan';
import { MIN_RECORDS_PER_JOB, replaceShardOutcome } from '../core/outcome';
import { HARVESTABLE_JOB_STATUSES, gatherJobName } from '../shared/jobNames';
import { gatherPaths } from '../shared/paths';
import type { BatchRunProgress, PreparedShards, ResolvedRun, RunTotals, ShardJob, ShardJobInput, ShardOutcome } from '../shared/types';
import { answerOnDemand, rejectedAs } from './bedrockJob';
import { collecting, jobActivities, stopper } from './jobActivities';
import { listenForJobEnds, waitForJobEnd } from './jobEvents';
import { JobSlot } from './jobSlot';

/** Marks histories in which shards hand small remainders back and the run gathers them into pooled jobs. */
export const GATHER_PATCH = 'gather-remainders';
/** Marks histories in which a pooled job holds a slot of the shared job-slot budget, as a shard's job does. */
export const GATHER_SLOTS_PATCH = 'gather-job-slots';
/** Marks histories in which the run waits for a pooled job's end by event as well as by polling (run.jobEvents). */
export const GATHER_EVENTS_PATCH = 'gather-job-events';

/**
 * Small remainders across shards: a shard left with fewer than 100 records without an answer (and
 * attempts left) hands their reference back instead of deciding alone; once every shard is done,
 * the run pools them into one job (more if they pass maxRecordsPerJob), collects each contributing
 * shard again with that job's answers, and sends what is still missing (or what never reached 100
 * together) to the run's small-remainder option. Only outcomes (counts and URIs) are kept, and
 * carried across continue-as-new.
 */
export class RemainderGather {
  /** Decided once per page: histories from before the patch start their shards without `gather`. */
  private readonly enabled: boolean;
  private readonly waiting: ShardOutcome[];
  /**
   * Ends of pooled jobs heard by the `jobStateChanged` signal (the consumer signals the run for a
   * `…-gather-<n>` job). Registered on every page, before any job exists: registering sends no
   * command, so histories from before it replay the same, and a run never signalled keeps it empty.
   */
  private readonly jobEnds = listenForJobEnds();

  constructor(
    private readonly progress: BatchRunProgress,
    prepared: PreparedShards,
    carried: ShardOutcome[] | undefined,
  ) {
    // A run of one shard has no one to gather with: that shard decides alone, as before.
    this.enabled = prepared.shardCount > 1 && patched(GATHER_PATCH);
    this.waiting = carried ?? [];
    this.show();
  }

  /** True when this run pools its shards' small remainders into jobs after every shard. */
  get pools(): boolean {
    return this.enabled;
  }

  /** The child's input: with `gather` only when this run gathers. */
  childInput(run: ResolvedRun, shardIndex: number): ShardJobInput {
    return this.enabled ? { run, shardIndex, gather: true } : { run, shardIndex };
  }

  /** A shard ended (already added to the totals): keep its outcome if it handed a remainder back. */
  took(outcome: ShardOutcome): void {
    if (!outcome.remainder) return;
    const { files: _files, ...kept } = outcome;
    this.waiting.push(kept);
    this.show();
  }

  /** What the next page carries (undefined when nothing waits, so continuations stay as they were). */
  carry(): ShardOutcome[] | undefined {
    return this.waiting.length ? this.waiting : undefined;
  }

  /** After every shard: pool the remainders, re-collect their shards, and settle what is left. `budgetUsd` is the budget in force. */
  async finish(run: ResolvedRun, prepared: PreparedShards, totals: RunTotals, budgetUsd: number | undefined): Promise<void> {
    if (!this.waiting.length) return;
    const byShard = new Map(this.waiting.map((o) => [o.shardIndex, o]));
    // A record gets at most maxJobAttempts jobs: the pooled job is one more for each record in it.
    const refs: RemainderRef[] = this.waiting
      .filter((o) => o.remainder!.attempt <= run.maxJobAttempts)
      .map((o) => ({ shardIndex: o.shardIndex, records: o.remainder!.records, shardRows: o.rows }));
    const plan = planGather(refs, run.maxRecordsPerJob);
    const pooled = new Set(plan.groups.flatMap((g) => g.shardIndexes));
    const left = this.waiting.filter((o) => !pooled.has(o.shardIndex));
    const leftRecords = left.reduce((n, o) => n + o.remainder!.records, 0);
    const why = plan.groups.length
      ? `they were the ${leftRecords} record(s) left over after filling ${plan.groups.length} pooled job(s), below Bedrock's minimum of ${MIN_RECORDS_PER_JOB} per job`
      : `fewer than ${MIN_RECORDS_PER_JOB} records across the run were left without an answer (${leftRecords} in ${left.length} shard(s)), below Bedrock's minimum per job`;
    if (plan.groups.length) {
      const cost = gatherCostUsd(refs.filter((r) => pooled.has(r.shardIndex)), prepared.shardCosts);
      const committed = totals.committedCostUsd ?? 0;
      if (budgetUsd !== undefined && committed + cost > budgetUsd) {
        // Not pooled, and not on demand either: both would spend past the budget.
        const over = `a pooled job for them could cost up to $${cost.toFixed(4)}, past the budget of $${budgetUsd} ($${committed.toFixed(4)} committed)`;
        this.progress.gather = { ...this.progress.gather!, note: over };
        return this.settle(run, totals, this.waiting, over, false);
      }
      totals.committedCostUsd = committed + cost;
      this.progress.gather = { ...this.progress.gather!, jobs: plan.groups.map((g) => gatherJobName(run.runName, run.runKey, g.n)) };
      // The run is one holder of the shared budget (its workflow id and run id), holding one slot at a
      // time: with the budget on, its pooled jobs (rarely more than one) go one after another.
      const slot = patched(GATHER_SLOTS_PATCH) ? new JobSlot(run, undefined, this.slotDisplay()) : undefined;
      await lanes(plan.groups, slot ? 1 : run.maxConcurrentJobs, (g) => this.pool(run, totals, g, g.shardIndexes.map((i) => byShard.get(i)!), slot));
    }
    await this.settle(run, totals, left, why, true);
    this.progress.gather = { ...this.progress.gather!, note: plan.groups.length ? `${plan.groups.length} pooled job(s)${left.length ? `; ${why}` : ''}` : why };
  }

  /**
   * One pooled job over these shards' remainders, under a job slot when `slot` is given; stopped if
   * the run is cancelled while it runs, and its slot given back on every way out.
   */
  private async pool(run: ResolvedRun, totals: RunTotals, group: GatherGroup, outcomes: ShardOutcome[], slot: JobSlot | undefined): Promise<void> {
    const jobName = gatherJobName(run.runName, run.runKey, group.n);
    const { submitter, poller } = jobActivities(run);
    const built = await collecting().buildGatherInput({ run, gather: group.n, inputUris: outcomes.map((o) => o.remainder!.inputUri) });
    let ended: { jobArn: string; status: string } | { code: string; message: string };
    try {
      await slot?.acquire(1);
      // shardIndex and attempt only matter for a shard's own job; `gather` names this one.
      const submitted = await submitter
        .submitJob({ run, shardIndex: group.shardIndexes[0], attempt: 0, inputUri: built.inputUri, gather: group.n })
        .catch(rejectedAs('SUBMIT_REJECTED', 'SUBMIT_QUOTA_WAIT'));
      if ('code' in submitted) {
        ended = submitted;
      } else {
        slot?.submitted(submitted.jobArn);
        const poll = () => poller.waitForJob({ jobArn: submitted.jobArn });
        // As a shard's wait: with job events on, the event ends it at once and the long poll is the safety net.
        const waited = run.jobEvents && patched(GATHER_EVENTS_PATCH) ? waitForJobEnd(submitted.jobArn, this.jobEnds, poll) : poll();
        ended = await waited.catch(rejectedAs('JOB_NOT_FOLLOWED', 'JOB_WAIT_TIMEOUT'));
        await slot?.ended();
      }
    } catch (err) {
      if (isCancellation(err)) await CancellationScope.nonCancellable(() => stopper.stopJob({ jobName }));
      throw err;
    } finally {
      // After the stop above: a release waits for a stopped job to end, so the next holder finds room.
      if (slot) await CancellationScope.nonCancellable(() => slot.release());
    }
    if ('code' in ended || !HARVESTABLE_JOB_STATUSES.includes(ended.status)) {
      const reason = 'code' in ended ? ended.message : `it ended ${ended.status}`;
      log.warn('pooled job gave no answers', { jobName, reason });
      return this.settle(run, totals, outcomes, `the pooled job ${jobName} gathering the run's small remainders gave no answers (${reason})`, true);
    }
    const { jobArn, status } = ended;
    await Promise.all(
      outcomes.map(async (before) => {
        const remainder = before.remainder!;
        const job: ShardJob = { attempt: remainder.attempt, jobArn, status, records: built.records, pooled: { outputPrefix: gatherPaths(run.runUri, group.n).bedrockOutput, recordsUri: remainder.inputUri } };
        const jobs = [...(before.jobs ?? []), job];
        const shard = { run, shardIndex: before.shardIndex, attempts: remainder.attempt, jobs };
        let after = await collecting().collectShard(shard);
        if (after.status !== 'succeeded') after = await this.leftover(shard, after);
        replaceShardOutcome(totals, before, after);
      }),
    );
  }

  /** Records a pooled job left without an answer: on demand, or error rows saying so. */
  private async leftover(shard: { run: ResolvedRun; shardIndex: number; attempts: number; jobs: ShardJob[] }, after: ShardOutcome): Promise<ShardOutcome> {
    const redrive = await collecting().prepareRedrive({ ...shard, attempt: shard.attempts + 1 });
    if (redrive.records === 0) return after;
    if (shard.run.smallRemainder === 'on-demand') return answerOnDemand(shard, redrive);
    return noted(after, `${redrive.records} record(s) still without an answer after the pooled job were not re-driven`);
  }

  /**
   * Shards whose remainders were not pooled (too few together, past the budget, or the pooled job
   * failed): on demand when the run says so and `onDemandAllowed`, else their rows stay as written
   * (each with its reason) and the shard's message says why they were not re-driven.
   */
  private async settle(run: ResolvedRun, totals: RunTotals, outcomes: ShardOutcome[], why: string, onDemandAllowed: boolean): Promise<void> {
    await Promise.all(
      outcomes.map(async (before) => {
        const remainder = before.remainder!;
        const after =
          onDemandAllowed && run.smallRemainder === 'on-demand'
            ? await answerOnDemand({ run, shardIndex: before.shardIndex, attempts: before.attempts, jobs: before.jobs ?? [] }, remainder)
            : noted(before, `${remainder.records} record(s) left without an answer were not re-driven: ${why}`);
        replaceShardOutcome(totals, before, after);
      }),
    );
  }

  /** The run's pooled job waits for a slot in the run's own progress (a shard's wait shows in shardStates). */
  private slotDisplay() {
    return {
      waiting: (ahead: number) => {
        this.progress.gather = { ...this.progress.gather!, waiting: `pooled job waiting for a job slot (${ahead} waiting ahead)` };
      },
      granted: () => {
        const { waiting: _waiting, ...rest } = this.progress.gather!;
        this.progress.gather = rest;
      },
    };
  }

  private show(): void {
    if (!this.waiting.length) return;
    const records = this.waiting.reduce((n, o) => n + o.remainder!.records, 0);
    this.progress.gather = { ...this.progress.gather, shards: this.waiting.length, records };
  }
}

function noted(outcome: ShardOutcome, note: string): ShardOutcome {
  const { remainder: _remainder, ...rest } = outcome;
  return { ...rest, message: `${outcome.message ?? ''}; ${note}`.replace(/^; /, '') };
}


/** Runs `each` over `items`, at most `width` at once. */
async function lanes<T>(items: T[], width: number, each: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await each(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, lane));
}
