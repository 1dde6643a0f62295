import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { parseBedrockJobName } from '../shared/jobNames';
import { jobStateChangedSignal } from '../shared/messages';
import type { JobStateChange } from './bedrockEvent';

/** Shard index in a shard workflow's id: `<run id>/shard-N`, or `<run id>/shard-N-run-<runId>` after a reset. */
export function shardIndexOfWorkflowId(workflowId: string): number | undefined {
  const m = /\/shard-(\d+)(?:-run-[^/]+)?$/.exec(workflowId);
  return m ? Number(m[1]) : undefined;
}

/**
 * Visibility query for the running shard workflows of one run key. Job names carry the run key
 * and shard, not a workflow id (a rerun under another id reuses the same jobs), and shard
 * workflows carry the run key as a search attribute, so the two meet here.
 */
export function runningShardsQuery(runKey: string): string {
  return runningQuery('shard', runKey);
}

/**
 * Visibility query for the running run workflows of one run key: a pooled (gather) job is followed
 * by the run itself, not a shard. A run that continued as new keeps its workflow id, and each page
 * upserts BatchRunKey again (RunBoard.resolved), so the current page is the one found.
 */
export function runningRunsQuery(runKey: string): string {
  return runningQuery('run', runKey);
}

function runningQuery(role: 'shard' | 'run', runKey: string): string {
  if (!/^[0-9a-f]+$/.test(runKey)) throw new Error(`not a run key: ${runKey}`);
  return `BatchRole = '${role}' AND BatchRunKey = '${runKey}' AND ExecutionStatus = 'Running'`;
}

export type SignalResult = { signalled: string[] } | { ignored: string };

/**
 * Tells every running workflow following this job that it changed status: the shard's workflow
 * for a shard's job, the run's for a pooled job; usually one, more when runs of the same input
 * share the job. Throws when Temporal cannot be asked, so the message is kept and comes back.
 */
export async function signalShardWorkflows(client: Client, change: JobStateChange): Promise<SignalResult> {
  const named = parseBedrockJobName(change.jobName);
  if (!named) return { ignored: `job ${change.jobName} is not one this app named` };
  const pooled = 'gather' in named;
  const signalled: string[] = [];
  for await (const wf of client.workflow.list({ query: pooled ? runningRunsQuery(named.runKey) : runningShardsQuery(named.runKey) })) {
    if (!pooled && shardIndexOfWorkflowId(wf.workflowId) !== named.shardIndex) continue;
    try {
      await client.workflow.getHandle(wf.workflowId, wf.runId).signal(jobStateChangedSignal, { jobArn: change.jobArn, status: change.status });
      signalled.push(wf.workflowId);
    } catch (err) {
      // Closed since the listing: it no longer waits for anything.
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  if (signalled.length) return { signalled };
  return { ignored: pooled ? `no running run workflow follows pooled job ${change.jobName}` : `no running shard workflow follows job ${change.jobName}` };
}
