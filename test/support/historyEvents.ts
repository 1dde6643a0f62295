import { temporal } from '@temporalio/proto';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** A history event's time, epoch ms. */
export function eventMillis(e: HistoryEvent): number {
  return Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
}

/** Workflow tasks that timed out (a sticky queue not served in time, or a task over its timeout): each next one replays the history. */
export function timedOutTasks(events: HistoryEvent[]): number {
  return events.filter((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT).length;
}
