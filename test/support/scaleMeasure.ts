import type { Client } from '@temporalio/client';
import { startBatchRun } from '../../src/client/api';
import type { RunSummary } from '../../src/shared/types';
import { sampleRows, uploadCsv } from './data';
import type { LocalStack } from './localStack';
import { textRun } from './runs';

/**
 * Temporal's per-workflow history warnings (the server's defaults: history.historyCountLimitWarn and
 * history.historySizeLimitWarn); the hard limits are five times these.
 */
export const HISTORY_EVENTS_WARN = 10_240;
export const HISTORY_BYTES_WARN = 10 * 1024 * 1024;

export interface HistorySize {
  workflowId: string;
  runId: string;
  type: string;
  events: number;
  bytes: number;
}

export interface ScaleMeasure {
  summary: RunSummary;
  wallMs: number;
  workflows: number;
  /** The largest history by events, and by bytes, among every workflow the run left (pages, shards, the job-slot budget). */
  mostEvents: HistorySize;
  mostBytes: HistorySize;
  /** Per workflow type: how many, and the largest events and bytes. */
  byType: Record<string, { count: number; events: number; bytes: number }>;
}

/** One run of `shards` shards of 100 rows; then every workflow's history length and size, from visibility. */
export async function measureScale(stack: LocalStack, client: Client, o: { name: string; shards: number; slots: number; page?: number }): Promise<ScaleMeasure> {
  await uploadCsv(stack.s3, `s3://datasets/${o.name}.csv`, sampleRows(o.shards * 100));
  const started = Date.now();
  const workflowId = `${o.name}-${started}`;
  const run = await startBatchRun(
    client,
    textRun(o.name, { maxRecordsPerJob: 100, maxConcurrentJobs: o.slots, ...(o.page ? { shardsPerPage: o.page } : {}) }),
    { workflowId },
  );
  const summary = await run.result();
  const wallMs = Date.now() - started;
  return { summary, wallMs, ...(await historySizes(client, workflowId)) };
}

/** Every workflow a run left (its pages, its shards) and the job-slot budget: history lengths and sizes, from visibility. */
export async function historySizes(client: Client, workflowId: string): Promise<Omit<ScaleMeasure, 'summary' | 'wallMs'>> {
  const sizes: HistorySize[] = [];
  const query = `WorkflowId STARTS_WITH '${workflowId}' OR WorkflowType = 'jobSlots'`;
  for await (const wf of client.workflow.list({ query })) {
    sizes.push({ workflowId: wf.workflowId, runId: wf.runId, type: wf.type, events: wf.historyLength, bytes: wf.historySize ?? 0 });
  }
  const byType: ScaleMeasure['byType'] = {};
  for (const s of sizes) {
    byType[s.type] ??= { count: 0, events: 0, bytes: 0 };
    const t = byType[s.type];
    t.count++;
    t.events = Math.max(t.events, s.events);
    t.bytes = Math.max(t.bytes, s.bytes);
  }
  const most = (key: 'events' | 'bytes') => sizes.reduce((a, b) => (b[key] > a[key] ? b : a));
  return { workflows: sizes.length, mostEvents: most('events'), mostBytes: most('bytes'), byType };
}
