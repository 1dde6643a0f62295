/**
 * Rolling-window benchmark (issue 10): how close a run keeps its job slots to the ideal list
 * schedule when pages are small, on the local stack (Temporal dev server, moto, the Bedrock
 * emulator), with job durations drawn from a lognormal and clipped. Prints the makespan over the
 * ideal, the slot-busy share and the pages (continue-as-new), each with its target and met / not met;
 * with --hops, where the handoff from a job's end to the next submit goes, hop by hop.
 *
 *   npx tsx bench/window.ts [--jobs 600] [--slots 20] [--page 50] [--median-ms 12000] [--min-ms 4000] [--max-ms 60000] [--seed 7] [--polling] [--hops]
 */
import { startLocalStack } from '../test/support/localStack';
import { measureWindow, skewedDurations } from '../test/support/windowMeasure';
import { startWorker } from '../test/support/worker';
import { handoffHops } from './handoff';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { numberArg } from './args';

const TARGET_RATIO = 1.02;
const TARGET_BUSY = 0.98;

async function main(): Promise<void> {
  const jobs = numberArg('jobs', 600);
  const slots = numberArg('slots', 20);
  const page = numberArg('page', 50);
  const durationsMs = skewedDurations(jobs, numberArg('seed', 7), numberArg('median-ms', 12_000), numberArg('min-ms', 4_000), numberArg('max-ms', 60_000));
  const events = !process.argv.includes('--polling');
  const stack = await startLocalStack({ inProgressMs: 1000, jobEvents: events });
  const worker = await startWorker(stack, undefined, { jobEvents: events });
  // The worker, its activities and the emulator share this process's event loop: a stall here delays
  // every workflow task's completion, so it is printed beside the window's figures.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  try {
    Object.assign(process.env, stack.env);
    const m = await measureWindow(stack, worker.client, { name: 'bench-window', jobs, slots, page, events, durationsMs });
    const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
    const mean = durationsMs.reduce((a, b) => a + b, 0) / jobs / 1000;
    console.log(`${jobs} jobs (${m.summary.outcome}, ${m.summary.rows} rows), ${slots} slots, pages of ${page} (${m.pages} pages), ${events ? 'job events' : '1 s polling'}; job durations mean ${mean.toFixed(1)} s`);
    console.log(`makespan ${(m.use.makespanMs / 1000).toFixed(1)} s; ideal ${(m.idealMs / 1000).toFixed(1)} s; ratio ${m.ratio.toFixed(3)}× (target ≤ ${TARGET_RATIO}×): ${met(m.ratio <= TARGET_RATIO)}`);
    console.log(`slot-busy ${(m.use.busyShare * 100).toFixed(1)}% (target ≥ ${TARGET_BUSY * 100}%): ${met(m.use.busyShare >= TARGET_BUSY)}`);
    console.log(`continue-as-new ${m.pages - 1} times (target ≥ 10): ${met(m.pages - 1 >= 10)}`);
    console.log(`longest stretch below min(slots, jobs left): ${(m.use.longestShortfallMs / 1000).toFixed(1)} s`);
    loop.disable();
    const ms = (ns: number) => (ns / 1e6).toFixed(0);
    console.log(`event-loop delay of the process (worker, activities, emulator): p50 ${ms(loop.percentile(50))} ms, p99 ${ms(loop.percentile(99))} ms, max ${ms(loop.max)} ms`);
    if (process.argv.includes('--hops')) {
      console.log('\n| hop | n | median ms | p90 ms | mean ms |\n|---|---:|---:|---:|---:|');
      const { hops, slotSubmitsLost, taskTimeouts } = await handoffHops(worker.client, m.workflowId, jobs, stack.emulator.stats().jobs);
      for (const h of hops) console.log(`| ${h.hop} | ${h.n} | ${h.medianMs.toFixed(0)} | ${h.p90Ms.toFixed(0)} | ${h.meanMs.toFixed(0)} |`);
      console.log(`\nshards whose slot-and-submit activity was lost (timed out or failed): ${slotSubmitsLost}`);
      console.log(`workflow tasks timed out: ${taskTimeouts.run} in the run's pages, ${taskTimeouts.shards} in its shards`);
    }
  } finally {
    await worker.stop();
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
