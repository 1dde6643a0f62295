import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import {
  applyBudget,
  applyMaxConcurrentJobs,
  applyPaused,
  checkBudget,
  checkMaxConcurrentJobs,
  checkText,
  initialControls,
  lastChange,
  who,
} from '../shared/controls';
import { pauseSubmissionUpdate, resumeSubmissionUpdate, setBudgetUpdate, setMaxConcurrentJobsUpdate } from '../shared/messages';
import type { BatchRunProgress, ResolvedRun, RunControlsState } from '../shared/types';

/**
 * The run's live settings behind its updates. The page loop reads them at every shard start (and
 * `condition` re-checks after each update), so a change takes effect at the next start; none of
 * it issues a command, so histories recorded before live controls replay unchanged.
 */
export class RunControls {
  private state?: RunControlsState;
  /** Set once no shard will start any more: changes would then mean nothing, so they are refused. */
  private closedBecause?: string;
  /** Set when re-drives wait for job seats (a rolling window): the limit and pause still govern them once every shard has started. */
  private seatsGovernRedrives = false;
  /** Set when the run pools small remainders into jobs after every shard: the budget still governs those. */
  private budgetGovernsPool = false;

  /**
   * Registers the handlers at once, so an update sent while the run resolves is refused with a reason,
   * not left unknown. A continued page passes what it carries: an update buffered during
   * continue-as-new runs inside setHandler, before start(), and must find the settings already there.
   */
  constructor(
    private readonly progress: BatchRunProgress,
    private readonly changed: () => void,
    continued?: { run: ResolvedRun; carried?: RunControlsState },
  ) {
    if (continued) this.start(continued.run, continued.carried);
    const done = <T>(result: T): T => {
      this.changed();
      return result;
    };
    setHandler(setMaxConcurrentJobsUpdate, (n: number, by?: string) => done(applyMaxConcurrentJobs(this.open(), n, who(by), now())), {
      validator: (n: number, by?: string) => this.check('seats', checkMaxConcurrentJobs(n), checkText('by', by)),
    });
    setHandler(pauseSubmissionUpdate, (reason?: string | null, by?: string) => done(applyPaused(this.open(), true, reason ?? undefined, who(by), now())), {
      validator: (reason?: string | null, by?: string) => this.check('seats', checkText('reason', reason), checkText('by', by)),
    });
    setHandler(resumeSubmissionUpdate, (reason?: string | null, by?: string) => done(applyPaused(this.open(), false, reason ?? undefined, who(by), now())), {
      validator: (reason?: string | null, by?: string) => this.check('seats', checkText('reason', reason), checkText('by', by)),
    });
    setHandler(setBudgetUpdate, (usd: number | null, by?: string) => done(applyBudget(this.open(), usd, who(by), now())), {
      validator: (usd: number | null, by?: string) => this.check('budget', checkBudget(usd), checkText('by', by)),
    });
  }

  /** Once the run is resolved: its input's settings, or those a previous page carried (with their changes). */
  start(run: ResolvedRun, carried?: RunControlsState): void {
    // Kept if already started (a continued page): a buffered update may have changed it since.
    this.state ??= carried ?? initialControls(run);
    this.progress.controls = this.state;
    this.changed();
  }

  /** The run's re-drives wait for a job seat under these settings, so they still apply once every shard has started. */
  governRedrives(): void {
    this.seatsGovernRedrives = true;
  }

  /** The run pools small remainders into jobs once every shard is done: a budget set after the last start governs those. */
  poolsRemainders(): void {
    this.budgetGovernsPool = true;
  }

  /** No shard will start any more (all started, or the budget stopped submission). */
  close(because: string): void {
    this.closedBecause ??= because;
  }

  get maxConcurrentJobs(): number {
    return this.open().settings.maxConcurrentJobs;
  }

  get paused(): boolean {
    return this.open().settings.paused;
  }

  get budgetUsd(): number | undefined {
    return this.open().settings.budgetUsd ?? undefined;
  }

  /** Who set the budget in force, when it was set on the running run (for the budget stop's message). */
  budgetNote(): string {
    const change = lastChange(this.open(), 'budgetUsd');
    return change ? ` (budget set by ${change.by} at ${change.at})` : '';
  }

  /** What the next page starts from. */
  carry(): RunControlsState | undefined {
    return this.state;
  }

  private open(): RunControlsState {
    if (!this.state) throw new Error('run controls used before the run was resolved');
    return this.state;
  }

  /**
   * Validators: refuse (before anything is written) a bad value, or any change when it could not apply.
   * Once every shard has started, seat settings (limit, pause) still govern re-drives where they wait
   * for seats, and a budget still governs the pooled jobs of small remainders; re-drives are not held
   * to the budget, so without a pool a budget then has nothing left to govern.
   */
  private check(governs: 'seats' | 'budget', ...problems: Array<string | undefined>): void {
    let problem = problems.find((p) => p !== undefined);
    const { phase, shardCount, shardsStarted } = this.progress;
    if (!problem && !this.state) problem = 'the run is still resolving its input; its settings exist once it is resolved';
    if (!problem && (phase === 'finalizing' || phase === 'done')) problem = `the run is ${phase}; no more jobs will be submitted`;
    if (!problem && this.closedBecause) problem = `no more jobs will be submitted: ${this.closedBecause}`;
    const stillGoverned = governs === 'seats' ? this.seatsGovernRedrives : this.budgetGovernsPool;
    if (!problem && !stillGoverned && shardCount !== undefined && shardsStarted >= shardCount) {
      problem =
        governs === 'seats'
          ? `all ${shardCount} shards have started: no shard start is left for a setting to govern`
          : `all ${shardCount} shards have started and the run pools no remainders: no submission is left for a budget to govern (re-drives are not held to it)`;
    }
    if (problem) throw ApplicationFailure.create({ type: 'InvalidRunControl', message: problem, nonRetryable: true });
  }
}

/** Workflow time (deterministic on replay). */
const now = () => new Date().toISOString();
