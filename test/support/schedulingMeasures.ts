/**
 * Measures of scheduling at scale (issue 10) read from recorded data rather than sampled while a
 * run goes: the emulator's per-job submit and end times, and Temporal histories (the quota
 * workflow's requests, grants and releases; a shard's job-end signal; billable actions).
 */
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import type { EmulatorStats } from '../../src/emulator';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type EmulatorJob = EmulatorStats['jobs'][number];

export async function historyOf(client: Client, workflowId: string, runId?: string): Promise<HistoryEvent[]> {
  return (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
}

/** Every run of a workflow id, oldest first, following continue-as-new back from the current run. */
export async function historyChain(client: Client, workflowId: string): Promise<HistoryEvent[][]> {
  const runs: HistoryEvent[][] = [];
  let runId: string | undefined;
  for (;;) {
    const events = await historyOf(client, workflowId, runId);
    runs.unshift(events);
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
    if (!runId) return runs;
  }
}

export const eventMs = (e: HistoryEvent): number => tsToMs(e.eventTime);
export const eventId = (e: HistoryEvent): number => Number(e.eventId);

export function payloadJson(payloads: temporal.api.common.v1.IPayloads | null | undefined, index = 0): unknown {
  const data = payloads?.payloads?.[index]?.data;
  return data ? JSON.parse(Buffer.from(data).toString('utf8')) : undefined;
}

/** One Bedrock job as the emulator saw it: when it was created (submitTime) and ended (endTime), epoch ms. */
export interface JobSpan {
  jobName: string;
  jobArn: string;
  /** The run (runName) whose job it is. */
  run: string;
  start: number;
  end: number;
}

/** The jobs of these runs (job names start with `<runName>-`); a job not ended yet ends at +∞. */
export function jobSpans(jobs: EmulatorJob[], runs: string[]): JobSpan[] {
  const spans: JobSpan[] = [];
  for (const j of jobs) {
    const run = runs.find((r) => j.jobName.startsWith(`${r}-`));
    if (run) spans.push({ jobName: j.jobName, jobArn: j.jobArn, run, start: j.submitMs, end: j.endMs ?? Number.POSITIVE_INFINITY });
  }
  return spans;
}

/** Jobs active at `t` (created at or before, not yet ended), of one run or all. */
export function activeAt(spans: JobSpan[], t: number, run?: string): number {
  return spans.filter((s) => (run === undefined || s.run === run) && s.start <= t && t < s.end).length;
}

/** The most jobs active at once (per run, or over all), from the spans' starts. */
export function peakActive(spans: JobSpan[], run?: string): number {
  return Math.max(0, ...spans.filter((s) => run === undefined || s.run === run).map((s) => activeAt(spans, s.start, run)));
}

/** A shard's request for a job slot as the quota workflow recorded it. */
export interface SlotRequestRecord {
  workflowId: string;
  runId: string;
  group: string;
  ticket: number;
  /** Event id and time of the update's acceptance. */
  acceptedId: number;
  acceptedMs: number;
  /** Answered "granted" at once; otherwise the shard waited until `grantedId`. */
  grantedAtOnce: boolean;
  grantedId?: number;
  grantedMs?: number;
}

export interface SlotGrantRecord {
  workflowId: string;
  runId: string;
  group: string;
  id: number;
  atMs: number;
}

export interface SlotLog {
  requests: SlotRequestRecord[];
  grants: SlotGrantRecord[];
  releases: Array<{ workflowId: string; runId: string; id: number; atMs: number }>;
}

/**
 * Requests (requestSlot updates, with their answer), grants (jobSlotGranted signals sent) and
 * releases (releaseSlot signals received) from the quota workflow's history. A request asked again
 * (same holder and ticket, after a re-ask) keeps its first acceptance. Event ids are per run: pass
 * one run's events.
 */
export function slotLog(events: HistoryEvent[]): SlotLog {
  const log: SlotLog = { requests: [], grants: [], releases: [] };
  const byUpdate = new Map<string, SlotRequestRecord>();
  const key = (h: { workflowId: string; runId: string }) => `${h.workflowId} ${h.runId}`;
  const groupOf = new Map<string, string>();
  const open = new Map<string, SlotRequestRecord>();
  for (const e of events) {
    const accepted = e.workflowExecutionUpdateAcceptedEventAttributes;
    if (accepted && accepted.acceptedRequest?.input?.name === 'requestSlot') {
      const h = payloadJson(accepted.acceptedRequest.input.args) as { workflowId: string; runId: string; group: string; ticket: number };
      groupOf.set(key(h), h.group);
      const waiting = open.get(key(h));
      if (waiting && waiting.ticket === h.ticket) continue; // asked again while waiting
      const rec: SlotRequestRecord = { ...h, acceptedId: eventId(e), acceptedMs: eventMs(e), grantedAtOnce: false };
      byUpdate.set(accepted.protocolInstanceId ?? '', rec);
      log.requests.push(rec);
      open.set(key(h), rec);
    }
    const completed = e.workflowExecutionUpdateCompletedEventAttributes;
    if (completed) {
      const rec = byUpdate.get(completed.meta?.updateId ?? '');
      const answer = payloadJson(completed.outcome?.success) as { granted?: boolean } | undefined;
      if (rec && answer?.granted) rec.grantedAtOnce = true;
    }
    const sent = e.signalExternalWorkflowExecutionInitiatedEventAttributes;
    if (sent?.signalName === 'jobSlotGranted') {
      const h = { workflowId: sent.workflowExecution?.workflowId ?? '', runId: sent.workflowExecution?.runId ?? '' };
      log.grants.push({ ...h, group: groupOf.get(key(h)) ?? '?', id: eventId(e), atMs: eventMs(e) });
      const rec = open.get(key(h));
      if (rec && rec.grantedId === undefined) {
        rec.grantedId = eventId(e);
        rec.grantedMs = eventMs(e);
      }
    }
    const got = e.workflowExecutionSignaledEventAttributes;
    if (got?.signalName === 'releaseSlot') {
      const r = payloadJson(got.input) as { workflowId: string; runId: string };
      log.releases.push({ workflowId: r.workflowId, runId: r.runId, id: eventId(e), atMs: eventMs(e) });
      open.delete(key(r));
    }
  }
  return log;
}

/** Requests of `group` waiting (queued, not granted yet) just before event `id`. */
export function waitingBefore(log: SlotLog, group: string, id: number): SlotRequestRecord[] {
  return log.requests.filter((r) => r.group === group && !r.grantedAtOnce && r.acceptedId < id && (r.grantedId === undefined || r.grantedId > id));
}

/** Slots `group` held just before event `id`: its grants before it, less its holders' releases before it. */
export function heldBefore(log: SlotLog, group: string, id: number): number {
  const holding = new Set<string>();
  const events = [
    ...log.grants.filter((g) => g.group === group).map((g) => ({ id: g.id, k: `${g.workflowId} ${g.runId}`, add: true })),
    ...log.releases.map((r) => ({ id: r.id, k: `${r.workflowId} ${r.runId}`, add: false })),
  ].sort((a, b) => a.id - b.id);
  for (const ev of events) {
    if (ev.id >= id) break;
    if (ev.add) holding.add(ev.k);
    else holding.delete(ev.k);
  }
  return holding.size;
}

// ---------------------------------------------------------------------------------------------
// Temporal Cloud actions (https://docs.temporal.io/cloud/actions), counted from histories.

export interface ActionCounts {
  /** Workflow started by a client or by continue-as-new (a child's start is counted in its parent, below). */
  workflowStarted: number;
  /** Start Child Workflow + Child Workflow Execution: two actions per child start. */
  childWorkflow: number;
  timers: number;
  signals: number;
  updates: number;
  /** Search Attribute upserts (TemporalChangeVersion alone exempt). */
  searchAttributeUpserts: number;
  /** RecordMarker commands (patches, local activities): one action per workflow task that records any. */
  markers: number;
  /** Activity attempts other than waitForJob polls (the check after an event included): each start or retry is one action. */
  activityAttempts: number;
  /** Attempts of the waitForJob poll (retried at the poll interval), as far as history shows them: see historyActions. */
  pollAttempts: number;
}

export const totalActions = (c: ActionCounts): number => Object.values(c).reduce((a, b) => a + b, 0);

export function emptyActions(): ActionCounts {
  return { workflowStarted: 0, childWorkflow: 0, timers: 0, signals: 0, updates: 0, searchAttributeUpserts: 0, markers: 0, activityAttempts: 0, pollAttempts: 0 };
}

export function addActions(a: ActionCounts, b: ActionCounts): ActionCounts {
  const out = emptyActions();
  for (const k of Object.keys(out) as Array<keyof ActionCounts>) out[k] = a[k] + b[k];
  return out;
}

/** The waitForJob poll: retried at a fixed interval (backoff 1), unlike the check after an event (backoff 2, a few attempts). */
export function isPoll(scheduled: temporal.api.history.v1.IActivityTaskScheduledEventAttributes): boolean {
  return scheduled.activityType?.name === 'waitForJob' && scheduled.retryPolicy?.backoffCoefficient === 1;
}

/**
 * Billable actions in one run's history, events within [fromMs, toMs] only (a long-lived quota
 * workflow's history holds other runs' events too). Activity attempts: a retried activity records
 * only its last attempt (ActivityTaskStarted.attempt, written when the attempt closes), and one
 * cancelled between attempts records none; so an activity with no started event counts one
 * attempt here, and the waitForJob poll (retried at the poll interval, cancelled mid-wait when an
 * event comes) is counted apart in `pollAttempts`, for the caller to replace with Bedrock's own
 * count of Get calls (one per attempt) less the checks' attempts.
 * Not in histories, so not counted: queries (none of this app's work sends any), rejected
 * updates, activity heartbeats (collectShard's, throttled: none in runs this short).
 */
export function historyActions(events: HistoryEvent[], window: { fromMs?: number; toMs?: number } = {}): ActionCounts {
  const c = emptyActions();
  const inWindow = (e: HistoryEvent) => eventMs(e) >= (window.fromMs ?? 0) && eventMs(e) <= (window.toMs ?? Number.POSITIVE_INFINITY);
  const started = new Map<number, number>();
  for (const e of events) {
    const a = e.activityTaskStartedEventAttributes;
    if (a) started.set(Number(a.scheduledEventId), a.attempt ?? 1);
  }
  const markerTasks = new Set<number>();
  for (const e of events) {
    if (!inWindow(e)) continue;
    const ws = e.workflowExecutionStartedEventAttributes;
    if (ws && !ws.parentWorkflowExecution) c.workflowStarted++;
    if (e.startChildWorkflowExecutionInitiatedEventAttributes) c.childWorkflow += 2;
    if (e.timerStartedEventAttributes) c.timers++;
    if (e.workflowExecutionSignaledEventAttributes) c.signals++;
    if (e.workflowExecutionUpdateAcceptedEventAttributes) c.updates++;
    const upsert = e.upsertWorkflowSearchAttributesEventAttributes;
    if (upsert && Object.keys(upsert.searchAttributes?.indexedFields ?? {}).some((k) => k !== 'TemporalChangeVersion')) c.searchAttributeUpserts++;
    const marker = e.markerRecordedEventAttributes;
    if (marker) markerTasks.add(Number(marker.workflowTaskCompletedEventId));
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const attempts = started.get(eventId(e)) ?? 1;
      if (isPoll(scheduled)) c.pollAttempts += attempts;
      else c.activityAttempts += attempts;
    }
  }
  c.markers = markerTasks.size;
  return c;
}

// ---------------------------------------------------------------------------------------------
// When a shard noticed its job's end.

export interface JobNotice {
  /** The emulator's endTime of the job (its clock: the same machine's as Temporal's). */
  endMs: number;
  /** The shard's `jobStateChanged` signal (an event reached it), if any. */
  signalMs?: number;
  /** The waitForJob that returned the job's end (the poll, or the check after the event) completed. */
  confirmedMs: number;
}

/** From a one-job shard's history: when it heard of (signal) and confirmed (waitForJob completed) its job's end. */
export function jobNotice(events: HistoryEvent[], endMs: number): JobNotice {
  const typeOf = new Map<number, string>();
  for (const e of events) if (e.activityTaskScheduledEventAttributes) typeOf.set(eventId(e), e.activityTaskScheduledEventAttributes.activityType?.name ?? '');
  const signal = events.find((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'jobStateChanged');
  const confirmed = events.filter((e) => typeOf.get(Number(e.activityTaskCompletedEventAttributes?.scheduledEventId)) === 'waitForJob').pop();
  if (!confirmed) throw new Error('no waitForJob completed in this history');
  return { endMs, signalMs: signal ? eventMs(signal) : undefined, confirmedMs: eventMs(confirmed) };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Attempts of waitForJob activities that are not the poll (the check after an event, the wait for a stopped job): each made one Get. */
export function checkAttempts(events: HistoryEvent[]): number {
  const started = new Map<number, number>();
  for (const e of events) if (e.activityTaskStartedEventAttributes) started.set(Number(e.activityTaskStartedEventAttributes.scheduledEventId), e.activityTaskStartedEventAttributes.attempt ?? 1);
  let n = 0;
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s?.activityType?.name === 'waitForJob' && !isPoll(s)) n += started.get(eventId(e)) ?? 1;
  }
  return n;
}
