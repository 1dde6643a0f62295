import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ModelCatalog } from './catalog';
import { ApiError, validation } from './errors';
import type { EventPublisher, EventStats } from './events';
import { FaultState } from './faults';
import { DEFAULT_LIMITS, InputError, validateInput } from './input';
import { Job, JobStatus, JobStore, ListQuery, isActive, isTerminal } from './jobStore';
import { minRecordsPerJob, modelFamily, supportsConverse } from './models';
import { processJob, sleepUnless } from './processing';
import { RuntimeService, RuntimeStats } from './runtime';
import { validateCreateRequest } from './validation';

export interface Timing {
  submittedMs: number;
  validatingMs: number;
  scheduledMs: number;
  inProgressMs: number;
  perRecordMs: number;
  /** Length of one hour of timeoutDurationInHours, so tests can reach expiry quickly. */
  hourMs: number;
}

export const DEFAULT_TIMING: Timing = { submittedMs: 50, validatingMs: 50, scheduledMs: 50, inProgressMs: 300, perRecordMs: 0, hourMs: 3_600_000 };

export interface TransitionEvent {
  jobArn: string;
  jobName: string;
  from?: JobStatus;
  to: JobStatus;
  message?: string;
  at: Date;
}

export interface EngineConfig {
  region: string;
  accountId: string;
  timing: Timing;
  shuffleOutput: boolean;
  maxActiveJobsPerModel: number;
  /** The models and profiles Bedrock offers in `region`, and where batch runs them. */
  catalog: ModelCatalog;
  onTransition?: (e: TransitionEvent) => void;
  /** Publishes every status change as Bedrock's EventBridge event, unless a fault drops it. */
  events?: EventPublisher;
}

export interface EngineStats {
  createRequests: number;
  jobsCreated: number;
  /** Creates answered ServiceQuotaExceededException (maxActiveJobsPerModel reached). */
  quotaRefusals: number;
  /** GetModelInvocationJob calls (each job's own count is in `jobs`). */
  getRequests: number;
  activeJobs: number;
  peakActiveJobs: number;
  /** Every change of activeJobs since the last reset (at most ACTIVE_TIMELINE_MAX): when, how many active, how many had ended so far. */
  activeTimeline: ActivePoint[];
  stopRequests: number;
  /** bedrock-runtime calls (InvokeModel, Converse) and how they were answered. */
  runtime: RuntimeStats;
  /** Job state-change events, when the emulator publishes them. */
  events?: EventStats;
  jobs: Array<{
    jobArn: string;
    jobName: string;
    status: string;
    modelId: string;
    clientRequestToken?: string;
    recordCount?: number;
    /** The job's submitTime and (once terminal) endTime, epoch ms: when it held a place in the quota. */
    submitMs: number;
    endMs?: number;
    /** GetModelInvocationJob calls naming this job since the last reset. */
    getRequests: number;
  }>;
}

export interface ActivePoint {
  atMs: number;
  active: number;
  ended: number;
}

/** Enough for any test or benchmark run; a long-lived emulator stops recording rather than grow. */
const ACTIVE_TIMELINE_MAX = 20_000;

// setTimeout fires at once for delays above 2^31-1 ms; long expiries are re-armed in steps.
const MAX_TIMER_MS = 2 ** 31 - 1;
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Owns every job's lifecycle: Create/Stop semantics, the phase timers, and the counters behind stats(). */
export class JobEngine {
  readonly store: JobStore;
  readonly faults = new FaultState();
  readonly runtime: RuntimeService;
  private readonly arnPrefix: string;
  private counters = { createRequests: 0, jobsCreated: 0, quotaRefusals: 0, getRequests: 0, stopRequests: 0 };
  private readonly getsByJob = new Map<string, number>();
  private activeJobs = 0;
  private peakActiveJobs = 0;
  private activeTimeline: ActivePoint[] = [];
  private endedSinceReset = 0;
  private seq = 0;
  private closed = false;
  private readonly tasks = new Set<Promise<void>>();

  constructor(
    private readonly s3: S3Client,
    private readonly cfg: EngineConfig,
  ) {
    this.arnPrefix = `arn:aws:bedrock:${cfg.region}:${cfg.accountId}:model-invocation-job/`;
    this.store = new JobStore(this.arnPrefix);
    this.runtime = new RuntimeService(cfg.catalog, this.faults);
  }

  isClosed(): boolean {
    return this.closed;
  }

  create(body: unknown): { jobArn: string } {
    this.counters.createRequests++;
    if (this.faults.takeThrottle()) throw new ApiError('ThrottlingException', 'Too many requests, please wait before trying again.');
    // A repeated token is ignored whatever else the request says, so an SDK retry of an accepted Create is harmless.
    const token = isObject(body) && typeof body.clientRequestToken === 'string' ? body.clientRequestToken : undefined;
    const previous = token !== undefined ? this.store.withToken(token) : undefined;
    if (previous) return { jobArn: previous.jobArn };

    const req = validateCreateRequest(body);
    if (this.faults.rejectsByName(req.jobName)) {
      throw validation('Your account is not authorized to invoke this API operation. (emulated fault rejectCreatesNamed)');
    }
    const clash = this.store.withName(req.jobName);
    if (clash) throw validation(`The job name ${req.jobName} is currently in use (by ${clash.jobArn}). Provide a unique job name and try again.`);
    // AWS's wording: an id that names no model here is "invalid"; a real model batch does not run here is only "not valid".
    const refusal = this.cfg.catalog.batchRefusal(req.modelId);
    if (refusal === 'invalid-model') throw validation('The provided model identifier is invalid.');
    if (refusal === 'not-batch') throw validation('The provided request is not valid');
    const family = modelFamily(req.modelId);
    if (!family) {
      throw validation(
        `The provided model identifier is invalid. ${req.modelId} is not a model this emulator runs in batch (Anthropic Claude, Amazon Nova, Meta Llama 3/4, Mistral text, Titan Text Embeddings V2, Cohere Embed v3; optionally as an inference profile or ARN).`,
      );
    }
    // Bedrock's behaviour here is undocumented; refusing at Create is the earliest, clearest signal.
    if (!supportsConverse(family) && req.modelInvocationType === 'Converse') {
      throw validation(`The model ${req.modelId} does not support the Converse invocation type.`);
    }
    const activeForModel = this.store.all().filter((j) => j.request.modelId === req.modelId && isActive(j.status)).length;
    if (activeForModel >= this.cfg.maxActiveJobsPerModel) {
      this.counters.quotaRefusals++;
      throw new ApiError(
        'ServiceQuotaExceededException',
        `You have reached the quota of ${this.cfg.maxActiveJobsPerModel} submitted and in-progress batch inference jobs for model ${req.modelId}. Wait for a job to finish or request a quota increase.`,
      );
    }

    const jobId = this.newJobId();
    const now = new Date();
    const job: Job = {
      seq: ++this.seq,
      jobId,
      jobArn: this.arnPrefix + jobId,
      request: req,
      family,
      tags: [...req.tags],
      status: 'Submitted',
      submitTime: now,
      lastModifiedTime: now,
      jobExpirationTime: new Date(now.getTime() + req.timeoutDurationInHours * this.cfg.timing.hourMs),
      inputTokenCount: 0,
      outputTokenCount: 0,
      failInjected: this.faults.takeFailNextJob(),
      expiryPassed: false,
    };
    this.store.add(job);
    this.counters.jobsCreated++;
    if (this.faults.forgetsByName(req.jobName)) {
      // Accepted, then lost, as if the service restarted before the job ran: nothing of it remains.
      this.store.forget(job);
      return { jobArn: job.jobArn };
    }
    this.countActive(undefined, 'Submitted');
    this.emit(job, undefined);
    this.armExpiry(job);
    job.phaseTimer = setTimeout(() => this.startValidating(job), this.cfg.timing.submittedMs);
    return { jobArn: job.jobArn };
  }

  /** GetFoundationModel: the model's details where Bedrock offers it in this Region. */
  foundationModel(identifier: string): { modelDetails: Record<string, unknown> } {
    const modelDetails = this.cfg.catalog.foundationModel(identifier);
    if (!modelDetails) throw new ApiError('ResourceNotFoundException', 'Could not resolve the foundation model from the provided model identifier.');
    return { modelDetails };
  }

  /** GetInferenceProfile: a system-defined cross-Region profile callable from this Region. */
  inferenceProfile(identifier: string): Record<string, unknown> {
    const profile = this.cfg.catalog.inferenceProfile(identifier);
    if (!profile) throw new ApiError('ResourceNotFoundException', `The inference profile ${identifier} could not be found.`);
    return profile;
  }

  get(identifier: string): Job {
    const job = this.store.find(identifier);
    if (!job) throw new ApiError('ResourceNotFoundException', `The model invocation job ${identifier} could not be found.`);
    return job;
  }

  /** GetModelInvocationJob: counted, per job too, so a client's polling can be measured. */
  describe(identifier: string): Job {
    this.counters.getRequests++;
    const job = this.get(identifier);
    this.getsByJob.set(job.jobArn, (this.getsByJob.get(job.jobArn) ?? 0) + 1);
    return job;
  }

  list(q: ListQuery) {
    return this.store.list(q);
  }

  stop(identifier: string): void {
    this.counters.stopRequests++;
    const job = this.get(identifier);
    if (isTerminal(job.status)) {
      throw new ApiError('ConflictException', `The model invocation job ${job.jobArn} cannot be stopped because it is already ${job.status}.`);
    }
    if (job.status === 'Stopping') return;
    const wasRunning = job.status === 'InProgress';
    this.transition(job, 'Stopping');
    if (wasRunning) {
      job.abort = 'stop'; // the running loop writes what it has done and ends the job
      return;
    }
    clearTimeout(job.phaseTimer);
    job.phaseTimer = setTimeout(() => this.transition(job, 'Stopped'), this.cfg.timing.submittedMs);
  }

  stats(): EngineStats {
    return {
      ...this.counters,
      activeJobs: this.activeJobs,
      peakActiveJobs: this.peakActiveJobs,
      activeTimeline: [...this.activeTimeline],
      runtime: this.runtime.stats(),
      ...(this.cfg.events ? { events: this.cfg.events.stats() } : {}),
      jobs: this.store.all().map((j) => {
        const entry: EngineStats['jobs'][number] = {
          jobArn: j.jobArn,
          jobName: j.request.jobName,
          status: j.status,
          modelId: j.request.modelId,
          submitMs: j.submitTime.getTime(),
          getRequests: this.getsByJob.get(j.jobArn) ?? 0,
        };
        if (j.request.clientRequestToken !== undefined) entry.clientRequestToken = j.request.clientRequestToken;
        if (j.totalRecordCount !== undefined) entry.recordCount = j.totalRecordCount;
        if (j.endTime !== undefined) entry.endMs = j.endTime.getTime();
        return entry;
      }),
    };
  }

  resetStats(): void {
    this.counters = { createRequests: 0, jobsCreated: 0, quotaRefusals: 0, getRequests: 0, stopRequests: 0 };
    this.getsByJob.clear();
    this.peakActiveJobs = this.activeJobs;
    this.endedSinceReset = 0;
    this.activeTimeline = [{ atMs: Date.now(), active: this.activeJobs, ended: 0 }];
    this.runtime.resetStats();
    this.cfg.events?.resetStats();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.store.all()) {
      clearTimeout(j.phaseTimer);
      clearTimeout(j.expiryTimer);
    }
    while (this.tasks.size) await Promise.allSettled([...this.tasks]);
  }

  /** Every status change goes through here, so activeJobs/peakActiveJobs are exact. */
  transition(job: Job, to: JobStatus, message?: string, at = new Date()): void {
    if (this.closed) return;
    const from = job.status;
    job.status = to;
    job.lastModifiedTime = at;
    if (message !== undefined) job.message = message;
    if (isTerminal(to)) {
      job.endTime = job.lastModifiedTime;
      clearTimeout(job.phaseTimer);
      clearTimeout(job.expiryTimer);
    }
    this.countActive(from, to);
    this.emit(job, from);
  }

  private countActive(from: JobStatus | undefined, to: JobStatus): void {
    const before = this.activeJobs;
    this.activeJobs += (isActive(to) ? 1 : 0) - (from !== undefined && isActive(from) ? 1 : 0);
    this.peakActiveJobs = Math.max(this.peakActiveJobs, this.activeJobs);
    if (this.activeJobs === before) return;
    if (this.activeJobs < before) this.endedSinceReset++;
    if (this.activeTimeline.length < ACTIVE_TIMELINE_MAX) this.activeTimeline.push({ atMs: Date.now(), active: this.activeJobs, ended: this.endedSinceReset });
  }

  private emit(job: Job, from: JobStatus | undefined): void {
    const events = this.cfg.events;
    if (events && this.faults.takeDroppedEvent()) events.dropped();
    else if (events) {
      const { jobName, modelId } = job.request;
      events.publish({ jobArn: job.jobArn, jobName, modelId, status: job.status, message: job.message, submitTime: job.submitTime, at: job.lastModifiedTime });
    }
    try {
      this.cfg.onTransition?.({ jobArn: job.jobArn, jobName: job.request.jobName, from, to: job.status, message: job.message, at: job.lastModifiedTime });
    } catch {
      // An observer's bug must not wedge a job half-way through a transition.
    }
  }

  private newJobId(): string {
    for (;;) {
      const id = Array.from(randomBytes(12), (b) => ID_ALPHABET[b % ID_ALPHABET.length]).join('');
      if (!this.store.find(id)) return id;
    }
  }

  private track(task: Promise<void>): void {
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
  }

  private armExpiry(job: Job): void {
    const remaining = job.jobExpirationTime.getTime() - Date.now();
    job.expiryTimer =
      remaining > MAX_TIMER_MS ? setTimeout(() => this.armExpiry(job), MAX_TIMER_MS) : setTimeout(() => this.onExpiry(job), Math.max(0, remaining));
  }

  private onExpiry(job: Job): void {
    switch (job.status) {
      case 'Submitted':
      case 'Validating':
        job.expiryPassed = true;
        break;
      case 'Scheduled':
        this.expire(job);
        break;
      case 'InProgress':
        job.abort ??= 'timeout';
        break;
      default:
        break;
    }
  }

  private expire(job: Job, now = Date.now()): void {
    // Timers may fire a millisecond before the wall clock reaches the expiry; the job cannot end before it.
    const at = new Date(Math.max(now, job.jobExpirationTime.getTime()));
    this.transition(job, 'Expired', `The job did not start within its timeout of ${job.request.timeoutDurationInHours} hours and has expired.`, at);
  }

  private startValidating(job: Job): void {
    if (job.status !== 'Submitted') return;
    this.transition(job, 'Validating');
    const started = Date.now();
    this.track(
      (async () => {
        let outcome: { files: NonNullable<Job['files']> } | { error: string };
        try {
          const { inputDataConfig, outputDataConfig } = job.request;
          const limits = { ...DEFAULT_LIMITS, minRecordsPerJob: minRecordsPerJob(job.request.modelId) };
          const files = await validateInput(this.s3, inputDataConfig.s3InputDataConfig.s3Uri, outputDataConfig.s3OutputDataConfig.s3Uri, limits, () => this.closed || job.status !== 'Validating');
          outcome = { files };
        } catch (err) {
          outcome = { error: err instanceof InputError ? err.message : `Internal error while validating the job: ${String(err)}` };
        }
        const wait = this.cfg.timing.validatingMs - (Date.now() - started);
        if (wait > 0) await sleepUnless(wait, () => this.closed || job.status !== 'Validating');
        if (this.closed || job.status !== 'Validating') return;
        if ('error' in outcome) return this.transition(job, 'Failed', outcome.error);
        job.files = outcome.files;
        job.totalRecordCount = outcome.files.reduce((n, f) => n + f.records, 0);
        job.processedRecordCount = job.successRecordCount = job.errorRecordCount = 0;
        this.transition(job, 'Scheduled');
        if (job.expiryPassed || Date.now() >= job.jobExpirationTime.getTime()) return this.expire(job);
        job.phaseTimer = setTimeout(() => this.startInProgress(job), this.cfg.timing.scheduledMs);
      })(),
    );
  }

  private startInProgress(job: Job): void {
    if (job.status !== 'Scheduled') return;
    const name = job.request.jobName;
    if (this.faults.expiresByName(name)) {
      // The expiry comes now, when the job would have started, so tests need not shrink hourMs for every job.
      clearTimeout(job.expiryTimer);
      const now = Date.now();
      job.jobExpirationTime = new Date(now);
      // One clock reading for both, so the job ends exactly at its expiry.
      this.expire(job, now);
      return;
    }
    this.transition(job, 'InProgress');
    const fail = job.failInjected || this.faults.failsByName(name);
    const cutAtHalf = this.faults.stopsByName(name) ? 'stop' : this.faults.partialByName(name) ? 'timeout' : undefined;
    const slowMs = this.faults.jobMs(name);
    this.track(
      processJob(job, {
        s3: this.s3,
        timing: slowMs === undefined ? this.cfg.timing : { ...this.cfg.timing, inProgressMs: slowMs },
        shuffle: this.cfg.shuffleOutput,
        faults: this.faults,
        failMidway: fail,
        cutAtHalf,
        isClosed: () => this.closed,
        transition: (to, message) => this.transition(job, to, message),
      }),
    );
  }
}
