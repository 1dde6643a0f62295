import type { Client } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
// The client's own decoding (its payload converter and codecs), as it decodes results.
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import type { BatchRunWorkflowInput, PreparedShards, ResolvedRun, RunInput } from '../shared/types';

/** What a batch run's history says about it, read without a worker (the progress query needs one). */
export interface RunHistoryFacts {
  /** The run input as started (a continued run's input without its continuation). */
  input?: RunInput;
  /** The resolved (slim) run, once resolveRun completed. */
  run?: ResolvedRun;
  /** Preprocessing's result: shard count, rows, the estimate. */
  prepared?: PreparedShards;
  /** When this workflow run began starting shards, and how many were done then: the base of the ETA's rate. */
  runningSince?: { timeMs: number; shardsDone: number };
}

/** Activities whose result is the prepared shards (parts, or the one-activity path of older runs). */
const PREPARING = new Set(['combineParts', 'prepareShards']);

/**
 * Walks the latest run's history once. A run that continued as new carries its resolved run,
 * preparation and totals in its input; a first run has them as activity results.
 */
export async function readRunHistory(client: Client, workflowId: string): Promise<RunHistoryFacts> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const converter = client.workflow.options.loadedDataConverter;
  const facts: RunHistoryFacts = {};
  const scheduled = new Map<string, string>();
  for (const event of history.events ?? []) {
    const started = event.workflowExecutionStartedEventAttributes;
    if (started?.input?.payloads?.length) {
      const input = await decodeFromPayloadsAtIndex<BatchRunWorkflowInput | undefined>(converter, 0, started.input.payloads);
      if (input && typeof input === 'object' && !Array.isArray(input)) {
        const { continuation, ...runInput } = input;
        facts.input = runInput;
        if (continuation) {
          Object.assign(facts, { run: continuation.run, prepared: continuation.prepared });
          facts.runningSince = { timeMs: optionalTsToMs(event.eventTime) ?? Date.now(), shardsDone: continuation.totals.shardsDone };
        }
      }
    }
    const type = event.activityTaskScheduledEventAttributes?.activityType?.name;
    if (type) scheduled.set(String(event.eventId), type);
    const completed = event.activityTaskCompletedEventAttributes;
    const completedType = completed ? scheduled.get(String(completed.scheduledEventId)) : undefined;
    if (completedType === 'resolveRun') facts.run = await decodeFromPayloadsAtIndex<ResolvedRun>(converter, 0, completed!.result?.payloads);
    if (completedType && PREPARING.has(completedType)) facts.prepared = await decodeFromPayloadsAtIndex<PreparedShards>(converter, 0, completed!.result?.payloads);
    if (event.startChildWorkflowExecutionInitiatedEventAttributes && !facts.runningSince) {
      facts.runningSince = { timeMs: optionalTsToMs(event.eventTime) ?? Date.now(), shardsDone: 0 };
    }
  }
  return facts;
}
