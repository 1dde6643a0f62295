import {
  AccessDeniedException,
  BedrockClient,
  ConflictException,
  ResourceNotFoundException,
  CreateModelInvocationJobCommand,
  GetModelInvocationJobCommand,
  ModelInvocationJobSummary,
  ServiceQuotaExceededException,
  StopModelInvocationJobCommand,
  ValidationException,
  paginateListModelInvocationJobs,
} from '@aws-sdk/client-bedrock';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { clientRequestTokenFor, gatherRequestTokenFor } from '../core/runConfig';
import { HARVESTABLE_JOB_STATUSES, TERMINAL_JOB_STATUSES, bedrockJobName, gatherJobName, jobIdOfArn } from '../shared/jobNames';
import { gatherPaths, shardPaths } from '../shared/paths';
import { ShardInputFiles, shardInputFiles } from './shardLookup';
import { BEDROCK_LIMITS } from '../core/shardPlan';
import { ResolvedRun } from '../shared/types';
import { ActivityDeps } from './deps';

export interface SubmitJobRequest {
  run: Pick<ResolvedRun, 'runKey' | 'runName' | 'runUri' | 'modelId' | 'invocationType' | 'roleArn' | 'jobTimeoutHours'>;
  shardIndex: number;
  attempt: number;
  /** JSONL the job reads: the shard's own by default, or the records an earlier attempt left unanswered. */
  inputUri?: string;
  /**
   * Set for the run's n-th pooled job (small remainders of several shards, in `inputUri`): named,
   * tokened and writing its outputs by `n` instead of by shard and attempt.
   */
  gather?: number;
}

/** AccessDenied may be IAM still propagating: a few tries, then the shard ends with the reason. */
const ACCESS_DENIED_ATTEMPTS = 4;

export interface SubmittedJob {
  jobArn: string;
  jobName: string;
  /** True when a job of this name already existed (an earlier submit that did not report back). */
  reused: boolean;
}

export interface JobState {
  jobArn: string;
  jobId: string;
  status: string;
  message?: string;
}

async function findJobByName(bedrock: BedrockClient, jobName: string): Promise<ModelInvocationJobSummary | undefined> {
  const found: ModelInvocationJobSummary[] = [];
  for await (const page of paginateListModelInvocationJobs({ client: bedrock }, { nameContains: jobName })) {
    for (const job of page.invocationJobSummaries ?? []) if (job.jobName === jobName) found.push(job);
  }
  found.sort((a, b) => (b.submitTime?.getTime() ?? 0) - (a.submitTime?.getTime() ?? 0));
  return found[0];
}

/**
 * A shard planned with at least Bedrock's minimum of records can fall under it when preprocessing
 * kept some out (RECORD_TOO_LARGE). Bedrock would refuse the job, so it is not created: the shard's
 * rows end with this reason (the workflow's SUBMIT_REJECTED), the rejected ones keep theirs, and the
 * run goes on.
 */
function refuseTooFewToSend(files: ShardInputFiles, shardIndex: number): void {
  if (!files.rejected || files.records === undefined) return;
  const sendable = files.records - files.rejected;
  if (sendable >= BEDROCK_LIMITS.minRecords) return;
  throw ApplicationFailure.create({
    message:
      `shard ${shardIndex} has ${sendable} record(s) to send after ${files.rejected} of its ${files.records} were kept out as RECORD_TOO_LARGE; ` +
      `Bedrock takes at least ${BEDROCK_LIMITS.minRecords} records a job, so no job was created for it`,
    type: 'ShardTooSmall',
    nonRetryable: true,
  });
}

export function makeBedrockJobActivities(deps: ActivityDeps) {
  const { bedrock } = deps;

  /**
   * Idempotent on the shard's business identity: the job name and client token derive from the
   * run key, shard and attempt, and an existing job of that name is reused rather than paid twice.
   */
  async function submitJob({ run, shardIndex, attempt, inputUri, gather }: SubmitJobRequest): Promise<SubmittedJob> {
    const pooled = gather !== undefined;
    const jobName = pooled ? gatherJobName(run.runName, run.runKey, gather) : bedrockJobName(run.runName, run.runKey, shardIndex, attempt);
    const existing = await findJobByName(bedrock, jobName);
    if (existing?.jobArn) return { jobArn: existing.jobArn, jobName, reused: true };
    const paths = pooled ? gatherPaths(run.runUri, gather) : shardPaths(run.runUri, shardIndex);
    const own = inputUri === undefined ? await shardInputFiles(deps.s3, run, shardIndex) : undefined;
    if (own) refuseTooFewToSend(own, shardIndex);
    const input = { jsonl: inputUri ?? own!.jsonl };
    try {
      const created = await bedrock.send(
        new CreateModelInvocationJobCommand({
          jobName,
          clientRequestToken: pooled ? gatherRequestTokenFor(run.runKey, gather) : clientRequestTokenFor(run.runKey, shardIndex, attempt),
          roleArn: run.roleArn,
          modelId: run.modelId,
          inputDataConfig: { s3InputDataConfig: { s3Uri: input.jsonl, s3InputFormat: 'JSONL' } },
          outputDataConfig: { s3OutputDataConfig: { s3Uri: paths.bedrockOutput } },
          timeoutDurationInHours: run.jobTimeoutHours,
          modelInvocationType: run.invocationType,
        }),
      );
      return { jobArn: created.jobArn!, jobName, reused: false };
    } catch (err) {
      if (err instanceof ValidationException && /in use|already exists/i.test(err.message)) {
        const raced = await findJobByName(bedrock, jobName);
        if (raced?.jobArn) return { jobArn: raced.jobArn, jobName, reused: true };
      }
      if (err instanceof ServiceQuotaExceededException) {
        // Another run or tool holds the account's job slots: wait for one instead of failing.
        throw ApplicationFailure.create({ message: err.message, type: 'BedrockJobQuotaFull', nextRetryDelay: '30s', category: ApplicationFailureCategory.BENIGN });
      }
      if (err instanceof ValidationException || err instanceof ResourceNotFoundException) {
        throw ApplicationFailure.create({ message: `Bedrock rejected job ${jobName}: ${err.message}`, type: 'BedrockValidation', nonRetryable: true });
      }
      if (err instanceof AccessDeniedException) {
        const attemptNo = Context.current().info.attempt;
        throw ApplicationFailure.create({
          message: `Bedrock denied access creating job ${jobName} (try ${attemptNo} of ${ACCESS_DENIED_ATTEMPTS}): ${err.message}`,
          type: 'BedrockAccessDenied',
          nonRetryable: attemptNo >= ACCESS_DENIED_ATTEMPTS,
        });
      }
      throw err;
    }
  }

  /** Returns once the job is terminal; until then fails benignly so Temporal's retry policy is the poll loop. */
  async function waitForJob({ jobArn }: { jobArn: string }): Promise<JobState> {
    const job = await bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: jobArn })).catch((err: unknown) => {
      if (err instanceof ResourceNotFoundException) {
        throw ApplicationFailure.create({ message: `Bedrock has no job ${jobArn}: ${err.message}`, type: 'BedrockJobNotFound', nonRetryable: true });
      }
      throw err;
    });
    const status = job.status ?? 'Unknown';
    if (!TERMINAL_JOB_STATUSES.includes(status)) {
      throw ApplicationFailure.create({ message: `job ${jobIdOfArn(jobArn)} is ${status}`, type: 'JobStillRunning', category: ApplicationFailureCategory.BENIGN });
    }
    return { jobArn, jobId: jobIdOfArn(jobArn), status, message: job.message };
  }

  /** Stops the job of this name if it is still running; a job already ended is left as it is. */
  async function stopJob({ jobName }: { jobName: string }): Promise<{ stopped: boolean }> {
    const job = await findJobByName(bedrock, jobName);
    if (!job?.jobArn || TERMINAL_JOB_STATUSES.includes(job.status ?? '') || job.status === 'Stopping') return { stopped: false };
    try {
      await bedrock.send(new StopModelInvocationJobCommand({ jobIdentifier: job.jobArn }));
      return { stopped: true };
    } catch (err) {
      if (err instanceof ConflictException) return { stopped: false };
      throw err;
    }
  }

  return { submitJob, waitForJob, stopJob };
}

export { HARVESTABLE_JOB_STATUSES };
