/**
 * Rolling-window benchmark (issue 10): how close a run keeps its job slots to the greedy ideal when
 * pages are small, on the local stack (Temporal dev server, moto, the Bedrock emulator) with job
 * durations drawn from a lognormal and clipped to 4–33 s. Prints the makespan over the greedy ideal
 * (jobs in shard order on whichever slot frees first, no gaps) and the slot-busy share, each with
 * its target (the no-page-boundary figures: 1.05× and 95%, with a little room) and met / not met.
 *
 *   npx tsx bench/window.ts [--jobs 40] [--slots 5] [--page 8] [--seed 7]
 */
import { startBatchRun } from '../src/client/api';
import { greedyMakespan, slotUse } from '../src/core/slotUse';
import { sampleRows, uploadCsv } from '../test/support/data';
import { startLocalStack } from '../test/support/localStack';
import { textRun } from '../test/support/runs';
import { startWorker } from '../test/support/worker';
import { Prng } from './textgen';

const TARGET_RATIO = 1.1;
const TARGET_BUSY = 0.9;
/** Submitted, Validating and Scheduled in the local stack (50 ms each): active time before InProgress. */
const PHASES_MS = 150;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Lognormal (median ~9 s) clipped to 4–33 s, seeded so runs compare. */
function durations(n: number, seed: number): number[] {
  const rng = new Prng(`window-${seed}`);
  return Array.from({ length: n }, () => {
    const normal = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    return Math.round(Math.min(33_000, Math.max(4_000, 9_000 * Math.exp(0.6 * normal))));
  });
}

async function main(): Promise<void> {
  const jobs = arg('jobs', 40);
  const slots = arg('slots', 5);
  const page = arg('page', 8);
  const ms = durations(jobs, arg('seed', 7));
  const events = process.argv.includes('--events');
  const stack = await startLocalStack({ inProgressMs: 1000, jobEvents: events });
  const worker = await startWorker(stack);
  try {
    Object.assign(process.env, stack.env);
    await uploadCsv(stack.s3, 's3://datasets/bench-window.csv', sampleRows(jobs * 100));
    stack.emulator.setFaults({ jobMsNamed: ms.map((d, i) => `-s${String(i).padStart(5, '0')}-a1=${d}`) });
    stack.emulator.resetStats();
    const run = await startBatchRun(
      worker.client,
      textRun('bench-window', { maxRecordsPerJob: 100, maxConcurrentJobs: slots, shardsPerPage: page, ...(events ? { jobEvents: true } : { pollIntervalSeconds: 1 }) }),
      { workflowId: `bench-window-${Date.now()}` },
    );
    const summary = await run.result();
    const use = slotUse(stack.emulator.stats().activeTimeline, slots, jobs);
    const ideal = greedyMakespan(ms.map((d) => d + PHASES_MS), slots);
    const ratio = use.makespanMs / ideal;
    const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
    console.log(`${jobs} jobs (${summary.outcome}, ${summary.rows} rows), ${slots} slots, pages of ${page}, ${events ? "job events" : "1 s polling"}`);
    console.log(`makespan ${(use.makespanMs / 1000).toFixed(1)} s; greedy ideal ${(ideal / 1000).toFixed(1)} s; ratio ${ratio.toFixed(2)}× (target ≤ ${TARGET_RATIO}×): ${met(ratio <= TARGET_RATIO)}`);
    console.log(`slot-busy ${(use.busyShare * 100).toFixed(0)}% (target ≥ ${TARGET_BUSY * 100}%): ${met(use.busyShare >= TARGET_BUSY)}`);
    console.log(`longest stretch below min(slots, jobs left): ${(use.longestShortfallMs / 1000).toFixed(1)} s`);
  } finally {
    await worker.stop();
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
