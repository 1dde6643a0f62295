/**
 * Where a rolling window's handoff goes (issue 10): from one job's end to the next job's submit,
 * hop by hop, read from the run's and its shards' histories and the emulator's job times.
 * Used by bench/window.ts (--hops).
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { type HistoryEvent, eventMillis as millis, timedOutTasks } from '../test/support/historyEvents';

const T = temporal.api.enums.v1.EventType;

export interface EmulatorJob {
  jobName: string;
  submitMs: number;
  endMs?: number;
}

export interface HopStats {
  hop: string;
  n: number;
  medianMs: number;
  p90Ms: number;
  meanMs: number;
}

function stats(hop: string, values: number[]): HopStats {
  const v = values.filter((x) => Number.isFinite(x) && x >= 0).sort((a, b) => a - b);
  const at = (q: number) => v[Math.min(v.length - 1, Math.floor(q * v.length))] ?? Number.NaN;
  return { hop, n: v.length, medianMs: at(0.5), p90Ms: at(0.9), meanMs: v.reduce((a, b) => a + b, 0) / (v.length || 1) };
}

function activityTimes(events: HistoryEvent[], type: string): { scheduled?: number; started?: number; completed?: number } {
  let id: number | undefined;
  const out: { scheduled?: number; started?: number; completed?: number } = {};
  for (const e of events) {
    if (id === undefined && e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && e.activityTaskScheduledEventAttributes?.activityType?.name === type) {
      id = Number(e.eventId);
      out.scheduled = millis(e);
    } else if (id !== undefined && e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_STARTED && Number(e.activityTaskStartedEventAttributes?.scheduledEventId) === id) {
      out.started = millis(e);
    } else if (id !== undefined && e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED && Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === id) {
      out.completed = millis(e);
      break;
    }
  }
  return out;
}

const firstSignal = (events: HistoryEvent[], name: string) =>
  events.find((e) => e.eventType === T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED && e.workflowExecutionSignaledEventAttributes?.signalName === name);

/** Hop times of the first attempt of every shard of a window run; how many shards' slot-and-submit was lost (timed out or failed); timed-out workflow tasks. */
export async function handoffHops(
  client: Client,
  workflowId: string,
  shards: number,
  jobs: EmulatorJob[],
): Promise<{ hops: HopStats[]; slotSubmitsLost: number; taskTimeouts: { run: number; shards: number } }> {
  let slotSubmitsLost = 0;
  const taskTimeouts = { run: 0, shards: 0 };
  const jobOf = new Map(jobs.map((j) => [/-s(\d+)-a1$/.exec(j.jobName)?.[1], j]));
  const hops: Record<string, number[]> = {};
  const add = (hop: string, ms: number | undefined) => {
    if (ms === undefined) return;
    hops[hop] ??= [];
    hops[hop].push(ms);
  };
  const childStarted = new Map<string, number>();
  for (let i = 0; i < shards; i++) {
    const id = `${workflowId}/shard-${i}`;
    const events = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
    const started = millis(events[0]);
    childStarted.set(id, started);
    const job = jobOf.get(String(i).padStart(5, '0'));
    const inSlot = activityTimes(events, 'submitJobInSlot');
    const submit = activityTimes(events, 'submitJob');
    const since = (from: number | undefined, to: number | undefined) => (from !== undefined && to !== undefined ? to - from : undefined);
    if (inSlot.scheduled !== undefined && inSlot.completed === undefined) slotSubmitsLost += 1;
    taskTimeouts.shards += timedOutTasks(events);
    if (inSlot.scheduled !== undefined && submit.scheduled === undefined) {
      // Granted at once: slot and submit in one activity (slot-and-submit).
      add('child started → slot+submit scheduled', inSlot.scheduled - started);
      add('slot+submit scheduled → started', since(inSlot.scheduled, inSlot.started));
      add('slot+submit started → job created', since(inSlot.started, job?.submitMs));
    } else {
      const ask = inSlot.scheduled !== undefined ? inSlot : activityTimes(events, 'requestJobSlot');
      add('child started → slot asked', since(started, ask.scheduled));
      add('slot asked → answered', since(ask.scheduled, ask.completed));
      add('answered → submit scheduled', since(ask.completed, submit.scheduled));
      add('submit scheduled → started', since(submit.scheduled, submit.started));
      add('submit started → job created', since(submit.started, job?.submitMs));
    }
    const event = firstSignal(events, 'jobStateChanged');
    if (job?.endMs !== undefined && event) add('job ended → event signal', millis(event) - job.endMs);
    const free = events.find((e) => e.eventType === T.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED && millis(e) >= (event ? millis(event) : Number.POSITIVE_INFINITY));
    if (event && free) add('event signal → seat freed (shard task)', millis(free) - millis(event));
  }
  // The run's side, over every page: a seat signal, then the next child start it allows.
  for await (const page of client.workflow.list({ query: `WorkflowId="${workflowId}"` })) {
    const events = (await client.workflow.getHandle(workflowId, page.runId).fetchHistory()).events ?? [];
    taskTimeouts.run += timedOutTasks(events);
    let lastSeat: number | undefined;
    for (const e of events) {
      if (e.eventType === T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED && e.workflowExecutionSignaledEventAttributes?.signalName === 'shardSeat') lastSeat = millis(e);
      if (e.eventType === T.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED) {
        const childId = e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? '';
        if (lastSeat !== undefined) add('seat signal → child start (run task)', millis(e) - lastSeat);
        lastSeat = undefined;
        const started = childStarted.get(childId);
        if (started !== undefined) add('child start → child running', started - millis(e));
      }
    }
  }
  return { hops: Object.entries(hops).map(([hop, values]) => stats(hop, values)), slotSubmitsLost, taskTimeouts };
}
