import { BATCH_RUN_WORKFLOW } from '../shared/types';

export interface ListFilters {
  phase?: string;
  outcome?: string;
  model?: string;
  /** A duration back from now (`30m`, `12h`, `7d`, `2w`) or a date (`2025-01-31`, any ISO time). */
  since?: string;
  /** Temporal's execution status, any case: running, completed, failed, canceled/cancelled, terminated, timedout, continuedasnew. */
  status?: string;
}

const STATUS_NAMES: Record<string, string> = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  canceled: 'Canceled',
  cancelled: 'Canceled',
  terminated: 'Terminated',
  timedout: 'TimedOut',
  continuedasnew: 'ContinuedAsNew',
};

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** The instant `since` names: a duration back from `now`, or a date. Throws naming what it takes. */
export function sinceInstant(since: string, now: Date): Date {
  const rel = /^(\d+)\s*([mhdw])$/i.exec(since.trim());
  if (rel) return new Date(now.getTime() - Number(rel[1]) * UNIT_MS[rel[2].toLowerCase()]);
  const date = new Date(since);
  if (Number.isNaN(date.getTime())) throw new Error(`--since takes a duration (30m, 12h, 7d, 2w) or a date (2025-01-31), not "${since}"`);
  return date;
}

/** A string literal of the visibility query language. */
function literal(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * The visibility query of `list`. Parent runs only: their workflow type is batchRun (shards run
 * as bedrockJob), which holds on any server and for runs started before the Batch* search
 * attributes were upserted; phase, outcome and model need those attributes.
 */
export function listQuery(f: ListFilters, now: Date = new Date()): string {
  const terms = [`WorkflowType = ${literal(BATCH_RUN_WORKFLOW)}`];
  if (f.status) {
    const name = STATUS_NAMES[f.status.toLowerCase().replace(/[\s_-]/g, '')];
    if (!name) throw new Error(`--status takes one of ${[...new Set(Object.values(STATUS_NAMES))].join(', ')}, not "${f.status}"`);
    terms.push(`ExecutionStatus = ${literal(name)}`);
  } else {
    // A run that continued as new is listed once, by its latest execution, not once per page.
    terms.push(`ExecutionStatus != ${literal('ContinuedAsNew')}`);
  }
  if (f.phase) terms.push(`BatchPhase = ${literal(f.phase)}`);
  if (f.outcome) terms.push(`BatchOutcome = ${literal(f.outcome)}`);
  if (f.model) terms.push(`BatchModel = ${literal(f.model)}`);
  if (f.since) terms.push(`StartTime >= ${literal(sinceInstant(f.since, now).toISOString())}`);
  return terms.join(' AND ');
}
