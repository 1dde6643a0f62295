/**
 * Messages that cross the workflow boundary. Versioned by shape: add optional fields only, so
 * histories of running workflows keep decoding. Everything here is a reference or a count; rows
 * never travel through Temporal.
 */
import type { InvocationType, ModelParams, Task } from '../models/types';
import type { CostReport } from '../core/cost';
import type { RunEstimate } from '../core/estimate';

export type { InvocationType };

/**
 * What becomes of a shard's records left without an answer that are too few for a batch job
 * (Bedrock's minimum is 100): `on-demand` answers them with InvokeModel/Converse at the on-demand
 * price, `error-rows` writes their rows with the reason.
 */
export type SmallRemainder = 'on-demand' | 'error-rows';

/** Where rows come from. Hugging Face datasets are read from the Hub's Parquet conversion (`config` defaults to `default`). */
export type DatasetSource = { s3Uri: string } | { huggingFace: { datasetId: string; split: string; config?: string } };

export const TASK_QUEUE = 'bedrock-batch';

/**
 * The queue of a task queue's CPU-bound activities (preparing a part, collecting a shard): each
 * worker polls it only while it has a free CPU slot, so these spread over every worker instead of
 * piling onto whichever worker's poller answered first.
 */
export function cpuTaskQueue(taskQueue: string): string {
  return `${taskQueue}-cpu`;
}
export const BATCH_RUN_WORKFLOW = 'batchRun';

/** One JSON object: what `temporal workflow start --input`, the Web UI and our CLI send. */
export interface RunInput {
  /** Dataset: a CSV (header row = column names) or Parquet object on S3, or a Hugging Face dataset split. */
  input: DatasetSource;
  task: 'text' | 'embedding';
  /** Template id under templates/ (text runs). Embedding runs read the `input_text` column. */
  promptId?: string;
  modelId: string;
  /** `Converse` sends every chat model the Converse request shape; `InvokeModel` (default) the family's own. */
  invocationType?: InvocationType;
  modelParams?: ModelParams;
  /** s3://bucket/prefix under which the run writes `<runKey>/…`. */
  outputUri: string;
  roleArn: string;
  maxRecordsPerJob?: number;
  maxConcurrentJobs?: number;
  jobTimeoutHours?: number;
  pollIntervalSeconds?: number;
  /**
   * Wait for job-state events (EventBridge → SQS → the worker's consumer → a signal) and poll only
   * as a safety net, every 900 s unless pollIntervalSeconds says otherwise. Default: on when the
   * resolving worker has BATCH_JOB_EVENTS_QUEUE_URL set.
   */
  jobEvents?: boolean;
  /** Whole-job failures are resubmitted (with a new job name) up to this many attempts in all. */
  maxJobAttempts?: number;
  /** Readable prefix of Bedrock job names. */
  runName?: string;
  /** Run on the first N rows only, to try a run before paying for all of it. */
  maxRecords?: number;
  /** USD: no job is submitted once the submitted jobs' estimated batch cost (max output) would pass it. */
  budgetUsd?: number;
  /** Shards started per workflow run before continuing as new (bounds history). */
  shardsPerPage?: number;
  /** Input bytes per preprocessing activity (CSV bytes, Parquet uncompressed bytes); big inputs are split into parts this size. */
  partBytes?: number;
  /** Preprocessing parts run at once (each is one activity; more workers take more of them). */
  prepareConcurrency?: number;
  /** Minutes a shard waits for a job slot while Bedrock answers quota-full or throttles its submit, before its rows are written with the reason. */
  quotaWaitMinutes?: number;
  /** A shard's remainder under 100 records (too few to re-drive as a batch job): `error-rows` (default) or `on-demand`. */
  smallRemainder?: SmallRemainder;
  /** On-demand calls per second per shard, when smallRemainder is `on-demand` (default 1, at most 20). */
  onDemandRequestsPerSecond?: number;
}

/** RunInput with defaults applied, checked, and tied to the run's business identity. */
export interface ResolvedRun {
  runKey: string;
  runName: string;
  task: Task;
  /** Display form of the source (`s3://…` or `hf://datasets/<id>/<config>/<split>`). */
  inputUri: string;
  source: DatasetSource;
  inputETag: string;
  promptId?: string;
  template?: string;
  textColumn?: string;
  modelId: string;
  invocationType: InvocationType;
  modelParams: ModelParams;
  /** `<outputUri>/<runKey>`: everything this run writes lives under it. */
  runUri: string;
  roleArn: string;
  maxRecordsPerJob: number;
  maxConcurrentJobs: number;
  jobTimeoutHours: number;
  pollIntervalSeconds: number;
  /** Absent in runs resolved before job events existed: they only poll. */
  jobEvents?: boolean;
  maxJobAttempts: number;
  shardsPerPage: number;
  /** Absent in runs resolved before preprocessing was split into parts (they take the one-activity path). */
  partBytes?: number;
  prepareConcurrency?: number;
  budgetUsd?: number;
  maxRecords?: number;
  /** Absent in runs resolved before the quota wait was bounded. */
  quotaWaitMinutes?: number;
  /** Absent in runs resolved before the option existed: their small remainders stay error rows. */
  smallRemainder?: SmallRemainder;
  onDemandRequestsPerSecond?: number;
  columns: string[];
  /**
   * Set on the slim run that workflows carry: `template` and `modelParams.system` are left out
   * and live in this file (`<runUri>/run.json`). Absent on a whole run.
   */
  runFileUri?: string;
}

export interface PreparedShards {
  rowCount: number;
  shardCount: number;
  /** JSON listing every shard's files and counts. */
  shardManifestUri: string;
  /** Absent in histories of runs started before estimates existed (as are the fields marked so below). */
  estimate?: Omit<RunEstimate, 'shards'>;
  /** Upper bound of each shard's batch cost in USD, for the budget; one number per shard. */
  shardCosts?: number[];
}

/** Row groups [start, end) of one Parquet file of the source (files in listing order). */
export interface RowGroupSpan {
  file: number;
  start: number;
  end: number;
}

/**
 * A slice of the input that one preprocessing activity turns into shards. Rows are known up front
 * except for a small CSV read whole; `firstRow` numbers the records so ids stay row positions.
 */
export type InputPart =
  | { index: number; kind: 'whole'; firstRow: 0; rows?: number }
  | {
      index: number;
      kind: 'rowGroups';
      firstRow: number;
      rows: number;
      spans: RowGroupSpan[];
      /** Rows of the first span that come before the part's first row (read and dropped). */
      leadingRows?: number;
      /** The run's shards this part holds (whole ones): its rows split evenly over them, larger first. */
      plannedShards?: number;
    }
  | {
      index: number;
      kind: 'csvRange';
      firstRow: number;
      rows: number;
      startByte: number;
      endByte: number;
      firstLine: number;
      /** maxRecords ends the run inside this range: read `rows` and stop. */
      truncated?: boolean;
      /** The file's record delimiter, as the boundary scan found it. */
      recordDelimiter?: string;
      /** Rows of the byte range that come before the part's first row (read and dropped). */
      leadingRows?: number;
      /** Rows in the whole byte range (leading rows, the part's, and any after it): the parse is checked against it. */
      rangeRows?: number;
      /** The run's shards this part holds (whole ones): its rows split evenly over them, larger first. */
      plannedShards?: number;
    };

export interface PreparePlan {
  parts: InputPart[];
  /** Rows the run covers (after maxRecords), when known before reading (Parquet, a scanned CSV). */
  rowCount?: number;
}

/** What one part wrote; its shards (files, counts, tokens) are in the part manifest on S3. */
export interface PreparedPart {
  part: number;
  rows: number;
  shards: number;
  manifestUri: string;
}

export interface ShardJobInput {
  run: ResolvedRun;
  shardIndex: number;
  /**
   * Set by a run of several shards that gathers small remainders (see gatherRemainders): a remainder
   * under Bedrock's 100 records is handed back in the outcome instead of being decided alone.
   */
  gather?: boolean;
  /**
   * Set by a run with a rolling window (workflows/shardWindow): the shard outlives the run page
   * that started it, so it tells the run's workflow id (whichever run is current) how it ended.
   */
  report?: boolean;
}

/** How a shard ended, told by signal to its run's workflow id: counts and short messages, never rows or file lists. */
export interface ShardDone {
  shardIndex: number;
  /** The shard's workflow id: a run ignores an end from a workflow it did not start (an earlier run's, after a reset). */
  workflowId?: string;
  /** The outcome without its file list (finalize lists the files itself). */
  outcome?: ShardOutcome;
  /** The shard's workflow failed: why (the run writes its rows with this reason). */
  failed?: string;
  cancelled?: boolean;
}

/** A shard still running when its run continued as new: which shard, under which workflow id. */
export interface InFlightShard {
  shardIndex: number;
  workflowId: string;
  runId: string;
  /** Without a job seat (see workflows/jobSeats): its job ended (`free`), or it waits for one (`wanted`). Absent: it holds one. */
  seat?: 'free' | 'wanted';
  /** The shard's last ask for a seat (granted, or waiting when `seat` is `wanted`). */
  ask?: number;
}

/** A shard gave its job seat back, or asks for one (the `ask`-th time). */
export interface ShardSeat {
  shardIndex: number;
  workflowId: string;
  seat: 'free' | 'wanted';
  ask?: number;
}

/**
 * How a shard ended: every record answered (`succeeded`), some records without an answer
 * (`partial`), no answer at all (`failed`), or never sent to Bedrock (`not_submitted`).
 */
export type ShardStatus = 'succeeded' | 'partial' | 'failed' | 'not_submitted';

/** One Bedrock job behind a shard, in attempt order. */
export interface ShardJob {
  attempt: number;
  jobArn: string;
  status: string;
  /** Records the job was given (the whole shard, or the records a later attempt re-drives). */
  records?: number;
  /**
   * A job pooled across shards (their small remainders gathered by the run): it wrote its outputs
   * under `outputPrefix`, and only the records in `recordsUri` (this shard's remainder JSONL) are this shard's.
   */
  pooled?: { outputPrefix: string; recordsUri: string };
}

/** A shard's records still without an answer, too few for a job of their own: a reference and a count, never rows. */
export interface ShardRemainder {
  /** JSONL of exactly those records (prepareRedrive's file). */
  inputUri: string;
  records: number;
  /** The attempt a job taking them would be for these records (≤ maxJobAttempts). */
  attempt: number;
}

export interface ShardOutcome {
  shardIndex: number;
  status: ShardStatus;
  jobArn?: string;
  jobStatus?: string;
  attempts: number;
  rows: number;
  succeeded: number;
  failed: number;
  inputTokens: number;
  outputTokens: number;
  partUri: string;
  message?: string;
  /** The shard's output files in order (`partUri` is the first); absent in histories recorded before files were size-bounded. */
  files?: Array<{ uri: string; rows: number; bytes: number }>;
  /** Of `failed`: rows Bedrock answered with a record error, and rows no job answered at all. Absent in older histories. */
  recordErrors?: number;
  unanswered?: number;
  /** Every job the shard ran, in attempt order. Absent in older histories. */
  jobs?: ShardJob[];
  /** The records of a small remainder sent on demand, and what they were billed (its tokens are not in inputTokens/outputTokens, which are batch tokens). */
  onDemand?: OnDemandCounts;
  /** Its tokens at the batch price (undefined when the price table lacks the model). Absent in older histories. */
  batchCostUsd?: number;
  /** Set when the shard handed its small remainder to the run to gather with other shards' (ShardJobInput.gather). */
  remainder?: ShardRemainder;
}

/** On-demand calls of a shard or a run: records answered or rejected, and the tokens they were billed at the on-demand price. */
export interface OnDemandCounts {
  answered: number;
  rejected: number;
  inputTokens: number;
  outputTokens: number;
}

export interface BudgetStop {
  limitUsd: number;
  committedUsd: number;
  shardsNotSubmitted: number;
  rowsNotSubmitted: number;
  message: string;
}

export interface RunTotals {
  shardsDone: number;
  shardsFailed: number;
  rows: number;
  succeeded: number;
  failed: number;
  inputTokens: number;
  outputTokens: number;
  /** Estimated batch cost (max output) of the jobs submitted so far, for the budget. Absent in older histories. */
  committedCostUsd?: number;
  /** What the finished shards' billed tokens cost at the batch price, for the run's current details. Absent in older histories. */
  batchCostUsd?: number;
  /** First few failed shards, for the summary; bounded so history stays small. */
  failedShards: Array<{ shardIndex: number; message?: string }>;
  /** Shards by how they ended (shardsFailed counts `failed`), and failed rows split by why. Absent in older histories. */
  shardsSucceeded?: number;
  shardsPartial?: number;
  shardsNotSubmitted?: number;
  recordErrors?: number;
  unanswered?: number;
  /** First few partial shards, as failedShards. */
  partialShards?: Array<{ shardIndex: number; message?: string }>;
  /** Small remainders answered on demand, summed over shards. Absent until a shard used it. */
  onDemand?: OnDemandCounts;
}

/**
 * What a run's output amounts to: every row answered (`complete`); every row sent and answered
 * by Bedrock, some with a record error (`complete_with_errors`); or some rows with no answer
 * because a job failed, stopped, expired, was rejected or never submitted (`incomplete`).
 */
export type RunOutcome = 'complete' | 'complete_with_errors' | 'incomplete';

export interface RunSummary {
  /** Absent in summaries written before outcomes existed. */
  outcome?: RunOutcome;
  /** One line saying what the outcome rests on. */
  outcomeReason?: string;
  runKey: string;
  inputUri: string;
  modelId: string;
  task: Task;
  shards: number;
  rows: number;
  succeeded: number;
  failed: number;
  inputTokens: number;
  outputTokens: number;
  /** What the tokens above cost at the price table's batch rate. */
  cost: CostReport;
  /** Small remainders answered with on-demand calls: not in the tokens above, priced at the on-demand rate (`cost.onDemandCost`). */
  onDemand?: OnDemandCounts & { cost: CostReport };
  /** What preprocessing projected: input tokens counted, output bounded by max tokens. */
  estimate: PreparedShards['estimate'];
  /** Set when the budget stopped submissions: the limit, what was committed, and the rows left out. */
  budget?: BudgetStop;
  outputUris: string[];
  manifestUri: string;
  summaryUri: string;
  failedShards: Array<{ shardIndex: number; message?: string }>;
  partialShards?: Array<{ shardIndex: number; message?: string }>;
  /** Shards by how they ended, and failed rows by why. */
  shardsByStatus?: Record<ShardStatus, number>;
  recordErrors?: number;
  unanswered?: number;
  /**
   * Of `recordErrors`: rows preprocessing kept out of every job (RECORD_TOO_LARGE: over the model's
   * input limit or Bedrock's input-file limit). They are record errors of our own: Bedrock would
   * have answered them with one, after charging the pipeline for them.
   */
  rejectedBeforeSubmit?: number;
}

export interface BatchRunProgress {
  phase: 'resolving' | 'preparing' | 'running' | 'finalizing' | 'done';
  runKey?: string;
  /** Preprocessing parts, while preparing. */
  partsTotal?: number;
  partsDone?: number;
  shardCount?: number;
  rowCount?: number;
  shardsStarted: number;
  shardsRunning: number;
  totals: RunTotals;
  /** The live settings and who changed them; absent until the run is resolved. */
  controls?: RunControlsState;
  /** Small remainders handed back by shards, to be gathered into a pooled job at the end (absent until one is). */
  gather?: GatherProgress;
  /** Running shards stuck on something (reported by signal): how many per state, and the first few. Absent when none is. */
  shardStates?: { counts: Record<string, number>; shards: Array<{ shardIndex: number; state: string; since: string }> };
}

/** What a shard tells its run: the state it is stuck in since when, or (no state) that it no longer is. */
export interface ShardStateReport {
  shardIndex: number;
  state?: string;
  since?: string;
}

export interface GatherProgress {
  /** Shards whose remainders wait, and their records. */
  shards: number;
  records: number;
  /** Names of the pooled Bedrock jobs, once decided. */
  jobs?: string[];
  /** What became of the remainders, once decided. */
  note?: string;
  /** Set while a pooled job waits for a slot of the shared job-slot budget: how many are ahead. */
  waiting?: string;
}

/** What an operator may change on a running run (Temporal updates; see src/workflows/runControls.ts). */
export interface RunSettings {
  maxConcurrentJobs: number;
  /** No new shard starts while paused; running ones go on. */
  paused: boolean;
  pauseReason?: string;
  /** null: no budget. */
  budgetUsd: number | null;
}

/** One change of a setting: what, old → new, by whom, when (workflow time, ISO). */
export interface SettingChange {
  setting: 'maxConcurrentJobs' | 'paused' | 'budgetUsd';
  from: number | boolean | null;
  to: number | boolean | null;
  by: string;
  at: string;
  reason?: string;
}

/** The settings, the last few changes (bounded: history carries counts, not a growing log) and how many there were. */
export interface RunControlsState {
  settings: RunSettings;
  changes: SettingChange[];
  changeCount: number;
}

/** Carried across continue-as-new so a long run resumes where the last page ended. */
export interface BatchRunContinuation {
  run: ResolvedRun;
  prepared: PreparedShards;
  cursor: number;
  totals: RunTotals;
  /** Absent in continuations written before live controls: the run input's settings apply. */
  controls?: RunControlsState;
  /** Outcomes (without their file lists) of finished shards whose small remainders wait to be gathered at the end of the run. */
  remainders?: ShardOutcome[];
  /** Shards still running when the page continued as new (rolling window); absent before it. */
  inFlight?: InFlightShard[];
  /** Running shards stuck on something (see progress.shardStates), so a later page still shows them. */
  shardStates?: ShardStateReport[];
}

export type BatchRunWorkflowInput = RunInput & { continuation?: BatchRunContinuation };

export function emptyTotals(): RunTotals {
  return {
    shardsDone: 0,
    shardsFailed: 0,
    rows: 0,
    succeeded: 0,
    failed: 0,
    inputTokens: 0,
    outputTokens: 0,
    committedCostUsd: 0,
    failedShards: [],
    shardsSucceeded: 0,
    shardsPartial: 0,
    shardsNotSubmitted: 0,
    recordErrors: 0,
    unanswered: 0,
    partialShards: [],
  };
}
