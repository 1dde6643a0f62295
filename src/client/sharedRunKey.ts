import type { Client } from '@temporalio/client';
import { rootMessage } from '../shared/errors';
import { progressQuery } from '../shared/messages';
import { BATCH_RUN_WORKFLOW } from '../shared/types';

const QUERY_DEADLINE_MS = 10_000;

/**
 * Running batch runs, other than `workflowId`, that write under `runKey` (a rerun of the same
 * input): removing the run's staging files would break them. A run that does not answer its
 * progress query in time is named too, since there is no telling what it writes.
 */
export async function otherRunsWritingUnder(client: Client, workflowId: string, runKey: string): Promise<string[]> {
  const found: string[] = [];
  const query = `WorkflowType = '${BATCH_RUN_WORKFLOW}' AND ExecutionStatus = 'Running'`;
  for await (const wf of client.workflow.list({ query })) {
    if (wf.workflowId === workflowId) continue;
    const handle = client.workflow.getHandle(wf.workflowId, wf.runId);
    try {
      const progress = await client.workflow.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(progressQuery));
      if (progress.runKey === runKey) found.push(wf.workflowId);
    } catch (err) {
      found.push(`${wf.workflowId} (did not answer its progress query: ${rootMessage(err)})`);
    }
  }
  return found;
}
