import type { Client } from '@temporalio/client';
import { startBatchRun } from '../../src/client/api';
import { type SlotUse, greedyMakespan, slotUse } from '../../src/core/slotUse';
import type { RunSummary } from '../../src/shared/types';
import { Prng } from '../../bench/textgen';
import { sampleRows, uploadCsv } from './data';
import { timedOutTasks } from './historyEvents';
import type { LocalStack } from './localStack';
import { textRun } from './runs';

/** Submitted, Validating and Scheduled in the local stack (50 ms each): active time before InProgress. */
const PHASES_MS = 150;

export interface WindowMeasureOptions {
  name: string;
  jobs: number;
  slots: number;
  page: number;
  /** Job ends reach shards by event (the stack and worker must read the events queue); else 1 s polling. */
  events: boolean;
  /** Each job's InProgress time, in shard order. */
  durationsMs: number[];
}

export interface WindowMeasure {
  summary: RunSummary;
  use: SlotUse;
  idealMs: number;
  /** Makespan over the ideal list schedule of the same durations (in shard order, on whichever slot frees first, no gaps). */
  ratio: number;
  /** Runs of the run's workflow id: pages, each after a continue-as-new but the first. */
  pages: number;
  /** Jobs active in the emulator when each page continued as new (a page that drained would show ~0). */
  activeAtContinue: number[];
  /** Workflow tasks of the run's pages that timed out (a sticky queue not served in time, or over 10 s): each is followed by a replay. */
  runTaskTimeouts: number;
  /** Jobs active at every 10 s of the run, for reading where a shortfall was. */
  activeEvery10s: number[];
  workflowId: string;
}

/** Skewed job durations: lognormal around `medianMs`, clipped to [minMs, maxMs], seeded so runs compare. */
export function skewedDurations(n: number, seed: number, medianMs: number, minMs: number, maxMs: number): number[] {
  const rng = new Prng(`window-${seed}`);
  return Array.from({ length: n }, () => {
    const normal = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    return Math.round(Math.min(maxMs, Math.max(minMs, medianMs * Math.exp(0.6 * normal))));
  });
}

/**
 * One run of `jobs` shards (100 rows each) at `slots` jobs at once and pages of `page` shards, each
 * job InProgress for its duration (the emulator's jobMsNamed fault); slot use from the emulator's
 * recorded active-job timeline, against the ideal list schedule.
 */
export async function measureWindow(stack: LocalStack, client: Client, o: WindowMeasureOptions): Promise<WindowMeasure> {
  await uploadCsv(stack.s3, `s3://datasets/${o.name}.csv`, sampleRows(o.jobs * 100));
  stack.emulator.setFaults({ jobMsNamed: o.durationsMs.map((d, i) => `-s${String(i).padStart(5, '0')}-a1=${d}`) });
  stack.emulator.resetStats();
  const workflowId = `${o.name}-${Date.now()}`;
  // With events, polling is the safety net only (10 s here, so an event lost under load costs little; 15 min by default).
  const timing = o.events ? { jobEvents: true, pollIntervalSeconds: 10 } : { pollIntervalSeconds: 1 };
  const run = await startBatchRun(client, textRun(o.name, { maxRecordsPerJob: 100, maxConcurrentJobs: o.slots, shardsPerPage: o.page, ...timing }), { workflowId });
  const summary = await run.result();
  const use = slotUse(stack.emulator.stats().activeTimeline, o.slots, o.jobs);
  const idealMs = greedyMakespan(
    o.durationsMs.map((d) => d + PHASES_MS),
    o.slots,
  );
  const timeline = stack.emulator.stats().activeTimeline;
  const activeAt = (ms: number) => timeline.filter((p) => p.atMs <= ms).at(-1)?.active ?? 0;
  const first = timeline.find((p) => p.active > 0)?.atMs ?? 0;
  const activeEvery10s = Array.from({ length: Math.ceil(use.makespanMs / 10_000) }, (_, i) => activeAt(first + i * 10_000));
  let pages = 0;
  let runTaskTimeouts = 0;
  const activeAtContinue: number[] = [];
  for await (const page of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    pages++;
    if (page.status.name === 'CONTINUED_AS_NEW' && page.closeTime) activeAtContinue.push(activeAt(page.closeTime.getTime()));
    runTaskTimeouts += timedOutTasks((await client.workflow.getHandle(workflowId, page.runId).fetchHistory()).events ?? []);
  }
  return { summary, use, idealMs, ratio: use.makespanMs / idealMs, pages, activeAtContinue, runTaskTimeouts, activeEvery10s, workflowId };
}
