/**
 * Crash matrix (issue 8): batch runs during which one of two worker processes is killed with
 * SIGKILL, at a seeded random moment or while a chosen activity runs on it. After each run the
 * histories of the run and its shard workflows say what was in flight at the kill and how long
 * the run took to move again; the emulator's job list and the output Parquet say whether a job
 * was paid twice or a row lost or doubled. Used by test/e2e/crashMatrix.test.ts (a few runs) and
 * scripts/crash-matrix.ts (`npm run crash-matrix -- --runs 20`, prints the table).
 */
import { hostname } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { startBatchRun } from '../../src/client/api';
import { writeObject } from '../../src/io/s3';
import { RunInput, RunSummary } from '../../src/shared/types';
import { sampleRows, toCsv } from './data';
import { LatencyProxy, startLatencyProxy } from './latencyProxy';
import { LocalStack } from './localStack';
import { readRunOutput } from './output';
import { WorkerProcess, spawnWorkerProcess } from './workerProcess';

/** The activities of a run in the order they first run; every kill lands in (or between) these. */
export const PHASES = ['resolveRun', 'planPreparation', 'preparePart', 'combineParts', 'submitJobInSlot', 'submitJob', 'waitForJob', 'collectShard', 'finalizeRun'] as const;
export type Phase = (typeof PHASES)[number];

/** An aim at `submitJob` is an aim at a job's create: a slot granted at once creates it in `submitJobInSlot`. */
export function aimedAt(aim: Phase, activityType: string): boolean {
  return activityType === aim || (aim === 'submitJob' && activityType === 'submitJobInSlot');
}

/**
 * Longest time after a kill the run may take to move again: the issue's 2 minutes. The slowest
 * kills today are in resolveRun (90 s start-to-close, ~91 s) and submitJob (1 min, ~62 s).
 */
export const RECOVERY_LIMIT_S = 120;

export interface MatrixConfig {
  /** Input rows per run (each run has its own input object, so its own run key and Bedrock jobs). */
  rows: number;
  /** Bytes of filler text per row, so preprocessing and collecting take noticeable time. */
  padBytes: number;
  maxRecordsPerJob: number;
  /** Preprocessing parts per run (partBytes is set from the CSV's size). */
  parts: number;
  prepareConcurrency: number;
  maxConcurrentJobs: number;
  pollIntervalSeconds: number;
  /** Worker processes kept alive (one of them is killed per run, and replaced). */
  workers: number;
  /** Bedrock's answer delay (ms) by call: Create after the job exists, Get, List. */
  bedrockLatencyMs: { create: number; get: number; list: number };
  /** A run not done this long after its start is counted failed (and terminated). */
  runTimeoutMs: number;
  /** Preprocessing threads per worker process (BATCH_PREPARE_THREADS). */
  prepareThreads: number;
}

export const DEFAULT_CONFIG: MatrixConfig = {
  rows: 3000,
  padBytes: 600,
  maxRecordsPerJob: 500,
  parts: 3,
  prepareConcurrency: 2,
  maxConcurrentJobs: 2,
  pollIntervalSeconds: 1,
  workers: 2,
  bedrockLatencyMs: { create: 800, get: 250, list: 100 },
  runTimeoutMs: 8 * 60_000,
  prepareThreads: 1,
};

/**
 * Kill after `delayMs` from the run's start, or as soon as an activity of type `activity` runs on
 * one of the workers (a submitJob: once Bedrock has created its job, before the worker hears back).
 */
export type KillPlan = { kind: 'delay'; delayMs: number } | { kind: 'aim'; activity: Phase; timeoutMs?: number };

export interface InFlight {
  workflowId: string;
  type: string;
  /** Held by the killed worker (seen started on it at the kill, or retried after a timeout). */
  lost: boolean;
  scheduledMs: number;
  /** When its workflow had acted on it: the first workflow task completed after it closed (for a workflow task: after the kill); undefined if never. */
  doneMs?: number;
}

export interface CrashRunResult {
  run: number;
  workflowId: string;
  runName: string;
  plan: string;
  killed: boolean;
  /** Seconds from the run's start to the kill. */
  killAtS?: number;
  victim?: string;
  /** Activities (and workflow tasks held by the killed worker) in flight at the kill, from the histories. */
  inFlight: InFlight[];
  /** Seconds from the kill until the last of the things in flight at the kill completed. */
  recoveryS?: number;
  jobsCreated: number;
  shards: number;
  rowsIn: number;
  rowsOut: number;
  uniqueOut: number;
  missing: number;
  durationS: number;
  outcome?: string;
  error?: string;
  problems: string[];
  ok: boolean;
}

/** mulberry32: small, fast, good enough to pick kill moments reproducibly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The random stream of run `index` of seed `seed`: a run's plan and picks do not depend on the runs before it. */
export function runRng(seed: number, index: number): () => number {
  return prng((Math.imul(seed >>> 0, 2654435761) ^ Math.imul(index + 1, 40503)) >>> 0);
}

/**
 * Kill plans for `runs` runs: `aims` (in order) on every other run from the second, the rest at
 * random moments in [0, spanMs), one in each of as many equal slices of the span as there are
 * random runs (stratified, so the kills spread over the whole run), in a seeded random order.
 */
export function planKills(runs: number, seed: number, spanMs: number, aims: readonly Phase[] = PHASES): KillPlan[] {
  const aimAt = new Map<number, Phase>();
  aims.forEach((phase, k) => {
    if (2 * k + 1 < runs) aimAt.set(2 * k + 1, phase);
  });
  const randomRuns = Array.from({ length: runs }, (_, i) => i).filter((i) => !aimAt.has(i));
  const slices = randomRuns.map((_, k) => k);
  const order = prng(seed);
  for (let k = slices.length - 1; k > 0; k--) {
    const j = Math.floor(order() * (k + 1));
    [slices[k], slices[j]] = [slices[j], slices[k]];
  }
  const plans: KillPlan[] = [];
  for (let i = 0; i < runs; i++) {
    const phase = aimAt.get(i);
    if (phase) {
      plans.push({ kind: 'aim', activity: phase });
      continue;
    }
    const slice = slices[randomRuns.indexOf(i)];
    const u = runRng(seed, i)();
    plans.push({ kind: 'delay', delayMs: Math.round(((slice + u) / randomRuns.length) * spanMs) });
  }
  return plans;
}

export function describePlan(plan: KillPlan): string {
  if (plan.kind === 'delay') return `t+${(plan.delayMs / 1000).toFixed(1)}s`;
  return aimedAt('submitJob', plan.activity) ? `aim ${plan.activity} (job created)` : `aim ${plan.activity}`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Worker processes (the real `src/worker.ts`), kept at `size` alive. */
export class WorkerPool {
  readonly alive: WorkerProcess[] = [];
  private starting = 0;

  constructor(
    private readonly env: Record<string, string>,
    private readonly size: number,
  ) {}

  /** Temporal's default worker identity, `<pid>@<hostname>`: what histories and describe() name. */
  static identity(w: WorkerProcess): string {
    return `${w.child.pid}@${hostname()}`;
  }

  identities(): string[] {
    return this.alive.map(WorkerPool.identity);
  }

  /** Starts workers until `size` are alive (or starting); resolves when they poll. */
  async fill(): Promise<void> {
    const missing = this.size - this.alive.length - this.starting;
    await Promise.all(Array.from({ length: Math.max(0, missing) }, () => this.spawnOne()));
  }

  async spawnOne(): Promise<void> {
    this.starting++;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          this.alive.push(await spawnWorkerProcess(this.env, 120_000));
          return;
        } catch (err) {
          if (attempt >= 3) throw err;
        }
      }
    } finally {
      this.starting--;
    }
  }

  async kill(w: WorkerProcess): Promise<void> {
    const i = this.alive.indexOf(w);
    if (i >= 0) this.alive.splice(i, 1);
    await w.kill('SIGKILL');
  }

  async stopAll(): Promise<void> {
    const all = this.alive.splice(0);
    await Promise.all(all.map((w) => w.kill('SIGKILL')));
  }
}

interface PendingActivity {
  workflowId: string;
  activityId: string;
  type: string;
  started: boolean;
  identity: string;
}

/** Activities pending in the run and its open shard workflows, from describe(). */
async function pendingActivities(client: Client, workflowId: string): Promise<PendingActivity[]> {
  const out: PendingActivity[] = [];
  const add = (id: string, raw: temporal.api.workflowservice.v1.IDescribeWorkflowExecutionResponse) => {
    for (const p of raw.pendingActivities ?? []) {
      out.push({
        workflowId: id,
        activityId: p.activityId ?? '',
        type: p.activityType?.name ?? '?',
        started: p.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
        identity: p.lastWorkerIdentity ?? '',
      });
    }
  };
  const parent = await client.workflow
    .getHandle(workflowId)
    .describe()
    .catch(() => undefined);
  if (!parent) return out;
  add(workflowId, parent.raw);
  await Promise.all(
    (parent.raw.pendingChildren ?? []).map(async (c) => {
      if (!c.workflowId) return;
      const child = await client.workflow
        .getHandle(c.workflowId)
        .describe()
        .catch(() => undefined);
      if (child) add(c.workflowId, child.raw);
    }),
  );
  return out;
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const eventMs = (e: HistoryEvent) => tsToMs(e.eventTime);
/** Event ids arrive as Longs. */
const eventNo = (v: unknown): number => (typeof v === 'object' && v !== null && 'toNumber' in v ? (v as { toNumber(): number }).toNumber() : Number(v ?? 0));

interface WorkflowHistory {
  workflowId: string;
  events: HistoryEvent[];
}

/** Every run of the batch workflow (following continue-as-new) and of every shard workflow it started. */
export async function runHistories(client: Client, workflowId: string, firstRunId?: string): Promise<WorkflowHistory[]> {
  const out: WorkflowHistory[] = [];
  const children = new Map<string, string | undefined>();
  let runId = firstRunId;
  for (let page = 0; page < 1000; page++) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    out.push({ workflowId, events });
    let next: string | undefined;
    for (const e of events) {
      const started = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
      if (started?.workflowId) children.set(started.workflowId, started.runId ?? undefined);
      const initiated = e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
      if (initiated && !children.has(initiated)) children.set(initiated, undefined);
      next = e.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? next;
    }
    if (!next || !firstRunId) break;
    runId = next;
  }
  for (const [id, childRunId] of children) {
    const history = await client.workflow
      .getHandle(id, childRunId)
      .fetchHistory()
      .catch(() => undefined);
    if (history) out.push({ workflowId: id, events: history.events ?? [] });
  }
  return out;
}

/**
 * What was in flight at `killMs` in these histories: activities scheduled before and closed after
 * (or never), and workflow tasks the killed worker held (started by it, or timed out). An
 * activity counts as lost when it was started on the killed worker at the kill (`lostKeys`:
 * `<workflowId>#<activityId>`) or its final attempt followed a timeout.
 */
export function inFlightAt(histories: WorkflowHistory[], killMs: number, victim: string, lostKeys: Set<string>): InFlight[] {
  const found: InFlight[] = [];
  for (const { workflowId, events } of histories) {
    const activities = new Map<number, InFlight & { activityId: string; closedEventId?: number; closedMs?: number }>();
    const tasks = new Map<number, { scheduledMs: number; byVictim: boolean; timedOut: boolean; closedMs?: number }>();
    const taskCompletions: Array<{ id: number; ms: number }> = [];
    for (const e of events) {
      const id = eventNo(e.eventId);
      const ms = eventMs(e);
      const scheduled = e.activityTaskScheduledEventAttributes;
      if (scheduled) {
        const activityId = scheduled.activityId ?? '';
        activities.set(id, { workflowId, activityId, type: scheduled.activityType?.name ?? '?', lost: lostKeys.has(`${workflowId}#${activityId}`), scheduledMs: ms });
      }
      const started = e.activityTaskStartedEventAttributes;
      if (started) {
        const a = activities.get(eventNo(started.scheduledEventId));
        if (a && (started.attempt ?? 1) > 1 && started.lastFailure?.timeoutFailureInfo && ms > killMs) a.lost = true;
      }
      const closedOf =
        e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes ?? e.activityTaskCanceledEventAttributes;
      if (closedOf) {
        const a = activities.get(eventNo(closedOf.scheduledEventId));
        if (a) Object.assign(a, { closedEventId: id, closedMs: ms });
      }
      if (e.workflowTaskScheduledEventAttributes) tasks.set(id, { scheduledMs: ms, byVictim: false, timedOut: false });
      const wtStarted = e.workflowTaskStartedEventAttributes;
      if (wtStarted) {
        const t = tasks.get(eventNo(wtStarted.scheduledEventId));
        if (t && wtStarted.identity === victim) t.byVictim = true;
      }
      const wtClosed = e.workflowTaskCompletedEventAttributes ?? e.workflowTaskTimedOutEventAttributes ?? e.workflowTaskFailedEventAttributes;
      if (wtClosed) {
        const t = tasks.get(eventNo(wtClosed.scheduledEventId));
        if (t) {
          t.closedMs = ms;
          if (!e.workflowTaskCompletedEventAttributes) t.timedOut = true;
        }
        if (e.workflowTaskCompletedEventAttributes) taskCompletions.push({ id, ms });
      }
    }
    // An activity is done when its workflow has acted on its result: the workflow task after it
    // completed (which waits out a sticky queue of the killed worker, if it was sent there).
    for (const a of activities.values()) {
      if (a.closedEventId !== undefined) a.doneMs = taskCompletions.find((c) => c.id > a.closedEventId!)?.ms;
      if (a.scheduledMs <= killMs && (a.closedMs === undefined || a.closedMs > killMs)) {
        const { activityId: _id, closedEventId: _closed, closedMs: _closedMs, ...entry } = a;
        found.push(entry);
      }
    }
    for (const [id, t] of tasks) {
      if (t.scheduledMs > killMs || (t.closedMs !== undefined && t.closedMs <= killMs)) continue;
      if (!t.byVictim && !t.timedOut) continue;
      const next = taskCompletions.find((c) => c.id > id && c.ms > killMs);
      found.push({ workflowId, type: 'workflowTask', lost: true, scheduledMs: t.scheduledMs, doneMs: next?.ms });
    }
  }
  return found;
}

/** Seconds from the kill until the workflows had acted on everything in flight at it; with nothing in flight, until the run's next event. */
export function recoverySeconds(histories: WorkflowHistory[], inFlight: InFlight[], killMs: number): number | undefined {
  if (inFlight.length > 0) {
    if (inFlight.some((f) => f.doneMs === undefined)) return undefined;
    return Math.max(...inFlight.map((f) => f.doneMs! - killMs)) / 1000;
  }
  const after = histories.flatMap((h) => h.events.map(eventMs)).filter((ms) => ms > killMs);
  return after.length ? (Math.min(...after) - killMs) / 1000 : undefined;
}

/** `collectShard* waitForJob×2`: types in flight in phase order, `*` when the killed worker held one. */
export function inFlightLabel(inFlight: InFlight[]): string {
  if (inFlight.length === 0) return '(nothing)';
  const order = [...PHASES, 'workflowTask'] as string[];
  const rank = (type: string) => (order.includes(type) ? order.indexOf(type) : order.length);
  const byType = new Map<string, { n: number; lost: number }>();
  for (const f of inFlight) {
    const t = byType.get(f.type) ?? { n: 0, lost: 0 };
    t.n++;
    if (f.lost) t.lost++;
    byType.set(f.type, t);
  }
  return [...byType.entries()]
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([type, { n, lost }]) => `${type === 'workflowTask' ? 'wft' : type}${n > 1 ? `×${n}` : ''}${lost ? '*'.repeat(Math.min(lost, 3)) : ''}`)
    .join(' ');
}

/** Rows of the input: sample rows (quoting, unicode, embedded newlines) plus filler text. */
export function matrixRows(cfg: MatrixConfig): Array<Record<string, string>> {
  const filler = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ';
  return sampleRows(cfg.rows).map((r, i) => ({ ...r, notes: `${i}:${filler.repeat(Math.ceil(cfg.padBytes / filler.length))}`.slice(0, cfg.padBytes) }));
}

export interface CrashMatrix {
  cfg: MatrixConfig;
  seed: number;
  client: Client;
  pool: WorkerPool;
  /** A run without a kill: its duration (ms) is the span random kills are drawn from. */
  calibrate(): Promise<{ spanMs: number; phases: Array<{ type: string; fromS: number; toS: number; count: number }> }>;
  /** `attempt` > 1 repeats a run under new ids (and a new input, so new jobs). */
  runOne(index: number, plan: KillPlan, attempt?: number): Promise<CrashRunResult>;
  close(): Promise<void>;
}

export async function openCrashMatrix(stack: LocalStack, seed: number, overrides: Partial<MatrixConfig> = {}): Promise<CrashMatrix> {
  const cfg: MatrixConfig = { ...DEFAULT_CONFIG, ...overrides };
  const latency = cfg.bedrockLatencyMs;
  const proxy: LatencyProxy = await startLatencyProxy(stack.emulator.url, (method, path) => {
    if (method === 'POST' && /^\/model-invocation-job\/?$/.test(path)) return latency.create;
    if (method === 'GET' && path.startsWith('/model-invocation-job/')) return latency.get;
    if (method === 'GET' && path.startsWith('/model-invocation-jobs')) return latency.list;
    return 0;
  });
  const env = { ...stack.env, AWS_ENDPOINT_URL_BEDROCK: proxy.url, BATCH_PREPARE_THREADS: String(cfg.prepareThreads) };
  const pool = new WorkerPool(env, cfg.workers);
  const connection = await Connection.connect({ address: stack.temporal.address });
  const client = new Client({ connection });
  const rows = matrixRows(cfg);
  const csv = toCsv(rows);
  const inputIds = rows.map((r) => r.id);
  const partBytes = Math.ceil(Buffer.byteLength(csv) / cfg.parts);
  let calibrations = 0;

  async function startRun(tag: string) {
    const runName = `cm-${tag}`;
    const s3Uri = `s3://datasets/crash-matrix/${tag}.csv`;
    await writeObject(stack.s3, s3Uri, csv, 'text/csv');
    const input: RunInput = {
      input: { s3Uri },
      task: 'text',
      promptId: 'joke_about_topic',
      modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
      modelParams: { maxTokens: 100 },
      outputUri: `s3://results/crash-matrix/${tag}`,
      roleArn: 'arn:aws:iam::123456789012:role/BedrockBatchRole',
      maxRecordsPerJob: cfg.maxRecordsPerJob,
      maxConcurrentJobs: cfg.maxConcurrentJobs,
      pollIntervalSeconds: cfg.pollIntervalSeconds,
      partBytes,
      prepareConcurrency: cfg.prepareConcurrency,
      runName,
    };
    await pool.fill();
    const startMs = Date.now();
    const handle = await startBatchRun(client, input, { workflowId: `crash-matrix-${tag}` });
    let finished = false;
    type Outcome = { summary?: RunSummary; error?: string };
    const result: Promise<Outcome> = handle.result().then(
      (summary) => ({ summary }),
      (err: Error) => ({ error: `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}` }),
    );
    void result.finally(() => (finished = true));
    const waitResult = async (): Promise<Outcome> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<Outcome>((r) => (timer = setTimeout(() => r({ error: `not done after ${cfg.runTimeoutMs / 1000} s` }), cfg.runTimeoutMs - (Date.now() - startMs))));
      const outcome = await Promise.race([result, timeout]);
      clearTimeout(timer);
      if (!finished) await handle.terminate('crash matrix: run timed out').catch(() => undefined);
      return outcome;
    };
    return { runName, handle, startMs, isFinished: () => finished, result, waitResult };
  }

  /**
   * A submit is aimed at once Bedrock has its job (the proxy holds the answer back): the worker
   * dies having created the job without reporting it, the case that could pay twice.
   */
  function createdIfSubmit(p: PendingActivity, runName: string): boolean {
    if (!aimedAt('submitJob', p.type)) return true;
    const shard = /\/shard-(\d+)/.exec(p.workflowId)?.[1];
    if (shard === undefined) return false;
    const ofShard = `-s${shard.padStart(5, '0')}-a`;
    return stack.emulator.stats().jobs.some((j) => j.jobName.startsWith(`${runName}-`) && j.jobName.includes(ofShard));
  }

  /** Kills one worker per the plan: preferably one running an activity (of the aimed type). */
  async function killPer(plan: KillPlan, workflowId: string, runName: string, startMs: number, isFinished: () => boolean, result: Promise<unknown>, rng: () => number) {
    let victim: WorkerProcess | undefined;
    let pending: PendingActivity[] = [];
    if (plan.kind === 'delay') {
      await Promise.race([sleep(Math.max(0, startMs + plan.delayMs - Date.now())), result]);
      if (isFinished()) return undefined;
      pending = await pendingActivities(client, workflowId);
      const busy = pool.alive.filter((w) => pending.some((p) => p.started && p.identity === WorkerPool.identity(w)));
      const from = busy.length > 0 ? busy : pool.alive;
      victim = from[Math.floor(rng() * from.length)];
    } else {
      const deadline = Date.now() + (plan.timeoutMs ?? cfg.runTimeoutMs);
      while (!victim) {
        if (isFinished() || Date.now() > deadline) return undefined;
        pending = await pendingActivities(client, workflowId);
        const holders = pool.alive.filter((w) => pending.some((p) => p.started && aimedAt(plan.activity, p.type) && p.identity === WorkerPool.identity(w) && createdIfSubmit(p, runName)));
        if (holders.length > 0) victim = holders[Math.floor(rng() * holders.length)];
        else await sleep(15);
      }
    }
    if (!victim) return undefined;
    const identity = WorkerPool.identity(victim);
    const lostKeys = new Set(pending.filter((p) => p.started && p.identity === identity).map((p) => `${p.workflowId}#${p.activityId}`));
    const killMs = Date.now();
    await pool.kill(victim);
    return { killMs, identity, lostKeys };
  }

  return {
    cfg,
    seed,
    client,
    pool,

    async calibrate() {
      const run = await startRun(`s${seed}-calibration-${++calibrations}`);
      const outcome = await run.waitResult();
      if (!outcome.summary) throw new Error(`calibration run failed: ${outcome.error}`);
      const spanMs = Date.now() - run.startMs;
      const histories = await runHistories(client, run.handle.workflowId, run.handle.firstExecutionRunId);
      const phases = PHASES.map((type) => {
        let from = Infinity;
        let to = -Infinity;
        let count = 0;
        for (const { events } of histories) {
          const scheduled = new Map<number, number>();
          for (const e of events) {
            const s = e.activityTaskScheduledEventAttributes;
            if (s?.activityType?.name === type) {
              scheduled.set(eventNo(e.eventId), eventMs(e));
              from = Math.min(from, eventMs(e));
              count++;
            }
            const c = e.activityTaskCompletedEventAttributes;
            if (c && scheduled.has(eventNo(c.scheduledEventId))) to = Math.max(to, eventMs(e));
          }
        }
        return { type, fromS: (from - run.startMs) / 1000, toS: (to - run.startMs) / 1000, count };
      });
      return { spanMs, phases };
    },

    async runOne(index, plan, attempt = 1) {
      const tag = `s${seed}-r${index}${attempt > 1 ? `-${attempt}` : ''}`;
      const rng = runRng(seed, index);
      const run = await startRun(tag);
      const kill = await killPer(plan, run.handle.workflowId, run.runName, run.startMs, run.isFinished, run.result, rng).catch((err: Error) => {
        throw new Error(`run ${index}: killing a worker failed: ${err.message}`);
      });
      const replacement = kill ? pool.spawnOne().then(() => undefined, (err: Error) => err) : Promise.resolve(undefined);
      const outcome = await run.waitResult();
      const durationS = (Date.now() - run.startMs) / 1000;
      const problems: string[] = [];
      const replaced = await replacement;
      if (replaced) problems.push(`replacement worker did not start: ${replaced.message.split('\n')[0]}`);

      const histories = await runHistories(client, run.handle.workflowId, run.handle.firstExecutionRunId).catch(() => []);
      const inFlight = kill ? inFlightAt(histories, kill.killMs, kill.identity, kill.lostKeys) : [];
      const recoveryS = kill ? recoverySeconds(histories, inFlight, kill.killMs) : undefined;
      const jobsCreated = stack.emulator.stats().jobs.filter((j) => j.jobName.startsWith(`${run.runName}-`)).length;
      const summary = outcome.summary;
      let rowsOut = 0;
      let uniqueOut = 0;
      let missing = inputIds.length;
      if (summary) {
        const ids = (await readRunOutput(stack.s3, summary.outputUris)).map((r) => String(r.id));
        const seen = new Set(ids);
        rowsOut = ids.length;
        uniqueOut = seen.size;
        missing = inputIds.filter((id) => !seen.has(id)).length;
      }
      const shards = summary?.shards ?? 0;
      if (!kill) problems.push('no kill: the run ended before the kill was due');
      if (!summary) problems.push(`run did not complete: ${outcome.error}`);
      else if (summary.outcome !== 'complete' || summary.succeeded !== inputIds.length) problems.push(`outcome ${summary.outcome}: ${summary.succeeded} of ${inputIds.length} rows answered`);
      if (summary && jobsCreated !== shards) problems.push(`${jobsCreated} Bedrock jobs created for ${shards} shards`);
      if (summary && (rowsOut !== inputIds.length || uniqueOut !== rowsOut || missing > 0)) problems.push(`rows in ${inputIds.length}, out ${rowsOut} (${uniqueOut} distinct, ${missing} missing)`);
      if (kill && (recoveryS === undefined || recoveryS > RECOVERY_LIMIT_S)) problems.push(`did not move again within ${RECOVERY_LIMIT_S} s of the kill (${recoveryS?.toFixed(1) ?? 'never'})`);
      return {
        run: index,
        workflowId: run.handle.workflowId,
        runName: run.runName,
        plan: describePlan(plan),
        killed: !!kill,
        killAtS: kill ? (kill.killMs - run.startMs) / 1000 : undefined,
        victim: kill?.identity,
        inFlight,
        recoveryS,
        jobsCreated,
        shards,
        rowsIn: inputIds.length,
        rowsOut,
        uniqueOut,
        missing,
        durationS,
        outcome: summary?.outcome,
        error: outcome.error,
        problems,
        ok: problems.length === 0,
      };
    },

    async close() {
      await pool.stopAll();
      await connection.close();
      await proxy.close();
    },
  };
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** The matrix as a Markdown table. */
export function formatTable(results: CrashRunResult[]): string {
  const header = ['run', 'kill plan', 'kill at s', 'in flight at kill (* = on the killed worker)', 'recovery s', 'jobs / shards', 'rows in / out', 'result'];
  const rows = results.map((r) => [
    String(r.run),
    r.plan,
    r.killAtS === undefined ? '—' : r.killAtS.toFixed(1),
    r.killed ? inFlightLabel(r.inFlight) : '—',
    r.recoveryS === undefined ? '—' : r.recoveryS.toFixed(1),
    `${r.jobsCreated} / ${r.shards}`,
    `${fmt(r.rowsIn)} / ${fmt(r.rowsOut)}`,
    r.ok ? 'ok' : `FAIL: ${r.problems.join('; ')}`,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) => `| ${cells.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** One line for the README's reliability table. */
export function summaryLine(results: CrashRunResult[], seed: number): string {
  const kills = results.filter((r) => r.killed).length;
  const completed = results.filter((r) => r.outcome === 'complete').length;
  const jobs = results.reduce((s, r) => s + r.jobsCreated, 0);
  const shards = results.reduce((s, r) => s + r.shards, 0);
  const rowsIn = results.reduce((s, r) => s + r.rowsIn, 0);
  const rowsOut = results.reduce((s, r) => s + r.rowsOut, 0);
  const once = results.every((r) => r.uniqueOut === r.rowsOut && r.missing === 0);
  const recoveries = results.map((r) => r.recoveryS).filter((s): s is number => s !== undefined).sort((a, b) => a - b);
  const median = recoveries.length ? recoveries[Math.floor((recoveries.length - 1) / 2)] : undefined;
  const failed = results.filter((r) => !r.ok).length;
  return (
    `crash matrix (seed ${seed}): ${results.length} runs, ${kills} SIGKILLs, ${completed}/${results.length} complete; ` +
    `Bedrock jobs created ${fmt(jobs)} for ${fmt(shards)} shards; rows in ${fmt(rowsIn)}, out ${fmt(rowsOut)}${once ? ' (each once)' : ' (NOT each once)'}; ` +
    `recovery median ${median?.toFixed(1) ?? '—'} s, max ${recoveries.length ? recoveries[recoveries.length - 1].toFixed(1) : '—'} s; ` +
    (failed === 0 ? 'all ok' : `${failed} FAILED`)
  );
}
