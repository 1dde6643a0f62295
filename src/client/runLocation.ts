import type { Client } from '@temporalio/client';
// The client's own decoding (its payload converter and codecs), as it decodes results.
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import type { BatchRunWorkflowInput, ResolvedRun } from '../shared/types';

/**
 * Where a batch run writes (`<outputUri>/<runKey>`), read from the history of its latest run, so it
 * needs no worker and holds for any ending (completed, failed, cancelled, terminated): a run that
 * continued as new carries the resolved run in its input; a first run has it as the result of its
 * resolveRun activity. Undefined when resolveRun never completed: the run wrote nothing.
 */
export async function runUriFromHistory(client: Client, workflowId: string): Promise<string | undefined> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const converter = client.workflow.options.loadedDataConverter;
  let resolveRunEventId: string | undefined;
  for (const event of history.events ?? []) {
    const started = event.workflowExecutionStartedEventAttributes;
    if (started?.input?.payloads?.length) {
      const input = await decodeFromPayloadsAtIndex<BatchRunWorkflowInput | undefined>(converter, 0, started.input.payloads);
      if (input?.continuation) return input.continuation.run.runUri;
    }
    if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'resolveRun') resolveRunEventId = String(event.eventId);
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed && resolveRunEventId !== undefined && String(completed.scheduledEventId) === resolveRunEventId) {
      return (await decodeFromPayloadsAtIndex<ResolvedRun>(converter, 0, completed.result?.payloads)).runUri;
    }
  }
  return undefined;
}
