import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { type HistoryEvent, eventMillis as millis } from './historyEvents';

const T = temporal.api.enums.v1.EventType;
const SCHEDULED = T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED;
const STARTED = T.EVENT_TYPE_ACTIVITY_TASK_STARTED;
const COMPLETED = T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED;
const CLOSED = new Set([
  T.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
  T.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
  T.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
  T.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
  T.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
  T.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
]);

export interface PartsPhase {
  /** First preparePart scheduled to last completed, in seconds. */
  seconds: number;
  parts: number;
  /** Parts completed by each worker identity (pid@host). */
  byWorker: Record<string, number>;
}

/** The parts phase of a history whose preparation has finished (combineParts scheduled), or undefined. */
export function partsPhaseOf(events: HistoryEvent[]): PartsPhase | undefined {
  const scheduled = new Map<number, HistoryEvent>();
  const startedBy = new Map<number, string>();
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  let parts = 0;
  const byWorker: Record<string, number> = {};
  let combined = false;
  for (const e of events) {
    if (e.eventType === SCHEDULED) {
      const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
      if (type === 'combineParts') combined = true;
      if (type === 'preparePart') {
        scheduled.set(Number(e.eventId), e);
        first = Math.min(first, millis(e));
      }
    } else if (e.eventType === STARTED) {
      const a = e.activityTaskStartedEventAttributes;
      if (scheduled.has(Number(a?.scheduledEventId))) startedBy.set(Number(a?.scheduledEventId), a?.identity ?? '?');
    } else if (e.eventType === COMPLETED) {
      const id = Number(e.activityTaskCompletedEventAttributes?.scheduledEventId);
      if (!scheduled.has(id)) continue;
      parts += 1;
      last = Math.max(last, millis(e));
      const who = startedBy.get(id) ?? e.activityTaskCompletedEventAttributes?.identity ?? '?';
      byWorker[who] = (byWorker[who] ?? 0) + 1;
    }
  }
  return combined ? { seconds: (last - first) / 1000, parts, byWorker } : undefined;
}

/** Waits (polling the history) until the run's preparation is done and returns its parts phase. */
export async function partsPhase(handle: WorkflowHandle, timeoutMs: number): Promise<PartsPhase> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = (await handle.fetchHistory()).events ?? [];
    const phase = partsPhaseOf(events);
    if (phase) return phase;
    const closed = events.find((e) => e.eventType != null && CLOSED.has(e.eventType));
    if (closed) throw new Error(`${handle.workflowId} closed before its parts were combined`);
    if (Date.now() > deadline) throw new Error(`${handle.workflowId}: parts not combined within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
