import { createHash } from 'node:crypto';
import { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { S3Client } from '@aws-sdk/client-s3';
import { progressQuery } from '../shared/messages';
import { rootMessage } from '../shared/errors';
import { causeChain } from './runResult';
import { ClientRunInput, resolveLocalInput } from './localInput';
import { BATCH_RUN_WORKFLOW, BatchRunProgress, RunInput, RunSummary, TASK_QUEUE } from '../shared/types';
import type { batchRun } from '../workflows';
import type { RunEstimate } from '../core/estimate';
import { runStartMetadata } from './runMetadata';

export interface StartOptions {
  workflowId?: string;
  taskQueue?: string;
  /** Needed only when `input.file` names a local CSV to upload first. */
  s3?: S3Client;
  /** An estimate the caller already has (say from `estimate`): shown in the run's static details. */
  estimate?: RunEstimate;
}

/**
 * Same input, same default id: starting a run that is already running fails instead of paying
 * for it twice. Pass a workflowId to run the same input again on purpose (its Bedrock jobs are
 * still reused, since their names derive from the data, not from the workflow id).
 */
export function defaultWorkflowId(input: RunInput): string {
  const digest = createHash('sha256').update(JSON.stringify(input)).digest('hex').slice(0, 12);
  return `batch-${input.runName ?? 'run'}-${digest}`;
}

export async function startBatchRun(
  client: Client,
  clientInput: ClientRunInput,
  opts: StartOptions = {},
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof batchRun>> {
  if ('file' in clientInput.input && !opts.s3) throw new Error('input.file is a local file: pass an S3 client (opts.s3) to upload it');
  const input = opts.s3 ? await resolveLocalInput(opts.s3, clientInput) : (clientInput as RunInput);
  return client.workflow.start<typeof batchRun>(BATCH_RUN_WORKFLOW, {
    taskQueue: opts.taskQueue ?? TASK_QUEUE,
    workflowId: opts.workflowId ?? defaultWorkflowId(input),
    args: [input],
    ...runStartMetadata(input, opts.estimate),
  });
}

/** A shard workflow whose activity keeps failing and is being retried: what it waits on, and why. */
export interface ShardRetry {
  workflowId: string;
  activity: string;
  attempt: number;
  lastFailure: string;
}

export interface RunStatus {
  workflowId: string;
  status: string;
  progress?: BatchRunProgress;
  /** Running shards stuck retrying (a full job quota, denied access, S3 down, …); the first 20. */
  retrying?: ShardRetry[];
  summary?: RunSummary;
  /** A run that failed, was cancelled or terminated: the root cause, and every message down its cause chain. */
  failure?: string;
  causeChain?: string;
}

export async function getRunStatus(client: Client, workflowId: string): Promise<RunStatus> {
  const handle = client.workflow.getHandle<typeof batchRun>(workflowId);
  const description = await handle.describe();
  const status = description.status.name;
  if (status === 'RUNNING') {
    const progress = await handle.query(progressQuery).catch(() => undefined);
    return { workflowId, status, progress, retrying: await retryingShards(client, workflowId) };
  }
  if (status === 'COMPLETED') return { workflowId, status, summary: await handle.result() };
  // Root cause first: "Workflow execution failed" says nothing; what failed inside it does.
  const error = await handle.result().then(
    () => undefined,
    (err: unknown) => err,
  );
  return { workflowId, status, ...(error === undefined ? {} : { failure: rootMessage(error), causeChain: causeChain(error) }) };
}

/** Failure types that are how a healthy shard waits (the poll of a running job), not trouble. */
const WAITING_NOT_FAILING = new Set(['JobStillRunning']);
const MAX_RETRYING_LISTED = 20;

/**
 * The run's running shard workflows whose current activity is on its second or later attempt,
 * with the last failure: why a run that looks idle is not moving (a job quota held elsewhere,
 * AccessDenied, S3 unreachable). Read from the server, so it needs no worker.
 */
export async function retryingShards(client: Client, workflowId: string): Promise<ShardRetry[]> {
  const retrying: ShardRetry[] = [];
  const query = `ParentWorkflowId = "${workflowId.replace(/"/g, '\\"')}" AND ExecutionStatus = "Running"`;
  for await (const child of client.workflow.list({ query })) {
    const { raw } = await client.workflow.getHandle(child.workflowId).describe();
    for (const activity of raw.pendingActivities ?? []) {
      const failure = activity.lastFailure;
      const attempt = activity.attempt ?? 1;
      if (attempt < 2 || !failure?.message || WAITING_NOT_FAILING.has(failure.applicationFailureInfo?.type ?? '')) continue;
      retrying.push({ workflowId: child.workflowId, activity: activity.activityType?.name ?? 'activity', attempt, lastFailure: failure.message });
    }
    if (retrying.length >= MAX_RETRYING_LISTED) break;
  }
  return retrying.slice(0, MAX_RETRYING_LISTED);
}
