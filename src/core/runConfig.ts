import { createHash } from 'node:crypto';
import { ModelParams, Task } from '../models/types';
import { DEFAULT_QUOTA_WAIT_MINUTES } from './outcome';
import { MAX_CONCURRENT_JOBS } from '../shared/controls';
import { DatasetSource, InvocationType, ResolvedRun, RunInput, SmallRemainder } from '../shared/types';

/** The settings a run may omit; their defaults come from config/defaults.json. */
export type RunDefaults = Pick<
  ResolvedRun,
  | 'maxRecordsPerJob'
  | 'maxConcurrentJobs'
  | 'jobTimeoutHours'
  | 'pollIntervalSeconds'
  | 'maxJobAttempts'
  | 'shardsPerPage'
  | 'partBytes'
  | 'prepareConcurrency'
  | 'quotaWaitMinutes'
  | 'smallRemainder'
  | 'onDemandRequestsPerSecond'
  | 'jobEvents'
> & {
  /** Job slots per (account, Region, model) shared by all runs; `jobSlotsByModel` overrides it per model id. */
  jobSlotsPerModel?: number;
  jobSlotsByModel?: Record<string, number>;
  /** How often the quota workflow checks that its holders' workflows still run. */
  jobSlotsCheckSeconds?: number;
};

/**
 * Small remainders stay error rows unless a run asks for on-demand calls: those cost the on-demand
 * price (twice batch's), draw on the same per-model requests- and tokens-per-minute quotas as the
 * account's live traffic, and many models answer on demand only through an inference profile
 * (a bare id batch accepts can be refused on demand). A run that wants every row answered opts in.
 */
export const DEFAULT_SMALL_REMAINDER: SmallRemainder = 'error-rows';
/**
 * One call a second per shard: 60 a minute stays under the smallest default on-demand
 * requests-per-minute quotas of the large models, so a run does not throttle the account's live
 * traffic, and a remainder (under 100 records) still finishes within two minutes.
 */
export const DEFAULT_ON_DEMAND_RPS = 1;
/** Shards run at once (maxConcurrentJobs) multiply this, so it is bounded. */
export const MAX_ON_DEMAND_RPS = 20;


/** Input bytes (CSV bytes, Parquet uncompressed bytes) one preprocessing activity takes on. */
export const DEFAULT_PART_BYTES = 256 * 1024 * 1024;

export class RunInputError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid run input: ${problems.join('; ')}`);
    this.name = 'RunInputError';
  }
}

export interface CheckedRunInput extends RunDefaults {
  partBytes: number;
  prepareConcurrency: number;
  quotaWaitMinutes: number;
  inputUri: string;
  source: DatasetSource;
  task: Task;
  promptId?: string;
  modelId: string;
  invocationType: InvocationType;
  modelParams: ModelParams;
  outputUri: string;
  roleArn: string;
  runName: string;
  budgetUsd?: number;
  maxRecords?: number;
  smallRemainder: SmallRemainder;
  onDemandRequestsPerSecond: number;
  jobEvents: boolean;
}

/**
 * Poll interval when job events end the waits: polling only catches events that were lost (a rule
 * or queue misconfigured, a message expired), so every 15 minutes is enough and costs few calls.
 */
export const JOB_EVENTS_POLL_SECONDS = 900;

const KNOWN_KEYS = new Set([
  'input', 'task', 'promptId', 'modelId', 'invocationType', 'modelParams', 'outputUri', 'roleArn', 'maxRecordsPerJob', 'maxConcurrentJobs',
  'jobTimeoutHours', 'pollIntervalSeconds', 'maxJobAttempts', 'runName', 'shardsPerPage', 'budgetUsd', 'maxRecords', 'continuation',
  'partBytes', 'prepareConcurrency', 'quotaWaitMinutes', 'smallRemainder', 'onDemandRequestsPerSecond', 'jobEvents',
]);
const ROLE_ARN = /^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role\/.+$/;
const PROMPT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

function checkSource(problems: string[], raw: unknown): { source?: DatasetSource; inputUri: string } {
  const given = typeof raw === 'object' && raw !== null ? (raw as { s3Uri?: unknown; file?: unknown; huggingFace?: unknown }) : {};
  if (given.file !== undefined) {
    problems.push('input.file is uploaded by our CLI and startBatchRun(); a worker cannot read files on your machine, so give input.s3Uri here');
    return { inputUri: '' };
  }
  if (given.huggingFace !== undefined) {
    const hf = (given.huggingFace ?? {}) as { datasetId?: unknown; split?: unknown; config?: unknown };
    const ok = typeof hf.datasetId === 'string' && /^[\w.-]+(\/[\w.-]+)?$/.test(hf.datasetId) && typeof hf.split === 'string' && /^[\w.-]+$/.test(hf.split);
    if (!ok || (hf.config !== undefined && (typeof hf.config !== 'string' || !/^[\w.-]+$/.test(hf.config)))) {
      problems.push('input.huggingFace needs datasetId ("owner/name"), split (e.g. "train") and optionally config (default "default")');
      return { inputUri: '' };
    }
    const source = { huggingFace: { datasetId: hf.datasetId as string, split: hf.split as string, config: (hf.config as string | undefined) ?? 'default' } };
    return { source, inputUri: `hf://datasets/${source.huggingFace.datasetId}/${source.huggingFace.config}/${source.huggingFace.split}` };
  }
  const uri = given.s3Uri;
  if (typeof uri !== 'string' || !uri.startsWith('s3://')) problems.push('input needs s3Uri (a CSV or Parquet object on S3) or huggingFace ({datasetId, split, config?})');
  else if (!/\.(csv|parquet)$/i.test(uri)) problems.push(`input.s3Uri must name a .csv or .parquet object, got ${uri}`);
  else return { source: { s3Uri: uri }, inputUri: uri };
  return { inputUri: '' };
}

function intIn(problems: string[], name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    return fallback;
  }
  return value;
}

/** Checks a run's JSON input and fills defaults; reports every problem at once. */
export function checkRunInput(raw: unknown, defaults: RunDefaults): CheckedRunInput {
  const problems: string[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new RunInputError(['the run input must be a JSON object']);
  const input = raw as Partial<RunInput> & Record<string, unknown>;
  for (const key of Object.keys(input)) if (!KNOWN_KEYS.has(key)) problems.push(`unknown field "${key}"`);

  const { source, inputUri } = checkSource(problems, input.input);

  const task = input.task;
  if (task !== 'text' && task !== 'embedding') problems.push(`task must be "text" or "embedding", got ${JSON.stringify(task)}`);
  if (task === 'text') {
    if (typeof input.promptId !== 'string' || !PROMPT_ID.test(input.promptId)) problems.push('promptId is required for text runs (letters, digits, - and _)');
  } else if (task === 'embedding' && input.promptId !== undefined) {
    problems.push('promptId is not used by embedding runs (they embed the input_text column)');
  }
  if (typeof input.modelId !== 'string' || !input.modelId.trim()) problems.push('modelId is required');
  if (typeof input.outputUri !== 'string' || !/^s3:\/\/[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](\/.*)?$/.test(input.outputUri)) {
    problems.push('outputUri must be an s3://bucket/prefix URI');
  }
  if (typeof input.roleArn !== 'string' || !ROLE_ARN.test(input.roleArn)) problems.push('roleArn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)');
  const invocationType = input.invocationType ?? 'InvokeModel';
  if (invocationType !== 'InvokeModel' && invocationType !== 'Converse') {
    problems.push(`invocationType must be "InvokeModel" or "Converse", got ${JSON.stringify(invocationType)}`);
  }
  const modelParams = input.modelParams ?? {};
  if (typeof modelParams !== 'object' || Array.isArray(modelParams)) problems.push('modelParams must be an object');
  const runName = input.runName ?? 'batch';
  if (typeof runName !== 'string' || !/^[a-zA-Z0-9][a-zA-Z0-9-]{0,30}$/.test(runName)) {
    problems.push('runName must be 1-31 letters, digits or -, starting with a letter or digit');
  }

  if (input.budgetUsd !== undefined && !(typeof input.budgetUsd === 'number' && input.budgetUsd > 0)) {
    problems.push(`budgetUsd must be a positive number of US dollars, got ${JSON.stringify(input.budgetUsd)}`);
  }

  const jobEvents = input.jobEvents ?? defaults.jobEvents ?? false;
  if (typeof jobEvents !== 'boolean') problems.push(`jobEvents must be true or false, got ${JSON.stringify(jobEvents)}`);

  const smallRemainder = input.smallRemainder ?? defaults.smallRemainder ?? DEFAULT_SMALL_REMAINDER;
  if (smallRemainder !== 'on-demand' && smallRemainder !== 'error-rows') {
    problems.push(`smallRemainder must be "on-demand" or "error-rows", got ${JSON.stringify(smallRemainder)}`);
  }
  const rps = input.onDemandRequestsPerSecond ?? defaults.onDemandRequestsPerSecond ?? DEFAULT_ON_DEMAND_RPS;
  if (typeof rps !== 'number' || !Number.isFinite(rps) || rps < 0.1 || rps > MAX_ON_DEMAND_RPS) {
    problems.push(`onDemandRequestsPerSecond must be a number from 0.1 to ${MAX_ON_DEMAND_RPS}, got ${JSON.stringify(rps)}`);
  }

  const checked: CheckedRunInput = {
    inputUri,
    source: source as DatasetSource,
    task: task as Task,
    promptId: input.promptId,
    modelId: (input.modelId ?? '').trim(),
    invocationType,
    modelParams: modelParams as ModelParams,
    outputUri: (input.outputUri ?? '').replace(/\/+$/, ''),
    roleArn: input.roleArn as string,
    runName: runName as string,
    maxRecordsPerJob: intIn(problems, 'maxRecordsPerJob', input.maxRecordsPerJob, defaults.maxRecordsPerJob, 100, 50_000),
    maxConcurrentJobs: intIn(problems, 'maxConcurrentJobs', input.maxConcurrentJobs, defaults.maxConcurrentJobs, 1, MAX_CONCURRENT_JOBS),
    jobTimeoutHours: intIn(problems, 'jobTimeoutHours', input.jobTimeoutHours, defaults.jobTimeoutHours, 24, 168),
    pollIntervalSeconds: intIn(problems, 'pollIntervalSeconds', input.pollIntervalSeconds, jobEvents ? JOB_EVENTS_POLL_SECONDS : defaults.pollIntervalSeconds, 1, 86_400),
    jobEvents,
    maxJobAttempts: intIn(problems, 'maxJobAttempts', input.maxJobAttempts, defaults.maxJobAttempts, 1, 10),
    shardsPerPage: intIn(problems, 'shardsPerPage', input.shardsPerPage, defaults.shardsPerPage, 1, 1000),
    // Older defaults files predate these two; the fallbacks keep them working.
    partBytes: intIn(problems, 'partBytes', input.partBytes, defaults.partBytes ?? DEFAULT_PART_BYTES, 1, 64 * 2 ** 30),
    prepareConcurrency: intIn(problems, 'prepareConcurrency', input.prepareConcurrency, defaults.prepareConcurrency ?? 4, 1, 256),
    quotaWaitMinutes: intIn(problems, 'quotaWaitMinutes', input.quotaWaitMinutes, defaults.quotaWaitMinutes ?? DEFAULT_QUOTA_WAIT_MINUTES, 1, 7 * 24 * 60),
    budgetUsd: input.budgetUsd,
    smallRemainder,
    onDemandRequestsPerSecond: rps,
    maxRecords: input.maxRecords === undefined ? undefined : intIn(problems, 'maxRecords', input.maxRecords, 0, 1, Number.MAX_SAFE_INTEGER),
  };
  if (problems.length) throw new RunInputError(problems);
  return checked;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Everything that decides what the run's jobs compute; keys below derive from it, never from run ids. */
export interface RunIdentity {
  inputUri: string;
  inputETag: string;
  task: Task;
  template?: string;
  modelId: string;
  invocationType: InvocationType;
  modelParams: ModelParams;
  maxRecordsPerJob: number;
  /** Input bytes per preprocessing part: parts cut shards, so this changes the jobs too. */
  partBytes: number;
  /** Only the first N rows; part of the identity because it changes the jobs. */
  maxRecords?: number;
  outputUri: string;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function runKeyOf(identity: RunIdentity): string {
  return sha256(canonical(identity)).slice(0, 16);
}

/** Client request token of one attempt at one shard: a hash of the run's business key, never of a run id. */
export function clientRequestTokenFor(runKey: string, shardIndex: number, attempt: number): string {
  return sha256(`${runKey}|${shardIndex}|${attempt}`);
}

/** Client token of the run's `n`-th pooled job (gathered remainders): like a shard's, a repeated Create is the same job. */
export function gatherRequestTokenFor(runKey: string, n: number): string {
  return sha256(`${runKey}|gather|${n}`);
}
