import { monitorEventLoopDelay } from 'node:perf_hooks';
import { localStackWithWorker } from '../support/runs';
import { readRunOutput } from '../support/output';
import { HISTORY_BYTES_WARN, HISTORY_EVENTS_WARN, historySizes } from '../support/scaleMeasure';
import { measureWindow, skewedDurations } from '../support/windowMeasure';

// Job ends by event (the worker reads the emulator's SQS queue); polling is only the safety net.
const env = localStackWithWorker({ inProgressMs: 1000, jobEvents: true }, { jobEvents: true });
beforeAll(() => Object.assign(process.env, env.stack.env));

/**
 * Issue 10's slot-utilisation measure at test size: 600 shards, 20 at once, pages of 50 (11
 * continue-as-new), skewed job durations (lognormal, median 6 s, 3–30 s). A page that drained
 * before continuing as new would continue with about no job running; the window continues with its
 * seats full. The busy share and makespan ratio are printed, not asserted: with seconds-long jobs
 * they measure the machine's load as much as the window (on 2 cores, 92% and 1.09–1.12×); the
 * issue's 98% and 1.02× are the benchmark's (bench/window.ts, longer jobs).
 */
test('600 shards, 20 slots, pages of 50: every page continues as new with its jobs running, every row is written once, and every history stays under the warnings', async () => {
  const durationsMs = skewedDurations(600, 11, 6_000, 3_000, 30_000);
  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  const heapMbAtStart = Math.round(process.memoryUsage().heapUsed / 2 ** 20);
  const m = await measureWindow(env.stack, env.worker.client, { name: 'wm', jobs: 600, slots: 20, page: 50, events: true, durationsMs });
  loop.disable();
  const health = `heap at start ${heapMbAtStart} MB, event-loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(0)} ms, max ${(loop.max / 1e6).toFixed(0)} ms`;
  const events = { emulator: env.stack.emulator.stats().events, consumer: env.worker.jobEventStats?.() };
  console.log(
    `window measure: busy ${(m.use.busyShare * 100).toFixed(1)}%, makespan ${m.ratio.toFixed(3)}× the ideal, ${m.pages} pages, jobs active at each continue-as-new ${m.activeAtContinue.join(',')}, longest shortfall ${m.use.longestShortfallMs} ms, run workflow tasks timed out ${m.runTaskTimeouts}; ${health}; active every 10 s ${m.activeEvery10s.join(',')}; events ${JSON.stringify(events)}`,
  );

  expect(m.summary).toMatchObject({ outcome: 'complete', rows: 60_000, succeeded: 60_000 });
  expect(m.pages).toBeGreaterThanOrEqual(11);
  expect(env.stack.emulator.stats()).toMatchObject({ jobsCreated: 600, peakActiveJobs: 20, quotaRefusals: 0 });
  // Every page continued as new with most seats busy: no page drained its jobs first.
  expect(m.activeAtContinue).toHaveLength(m.pages - 1);
  expect(Math.min(...m.activeAtContinue)).toBeGreaterThanOrEqual(10);
  const rows = await readRunOutput(env.stack.s3, m.summary.outputUris);
  expect(new Set(rows.map((r) => r.record_id)).size).toBe(60_000);

  // Every page, shard and the job-slot budget stays under Temporal's history warnings.
  const h = await historySizes(env.worker.client, m.workflowId);
  console.log(`largest histories: ${h.mostEvents.events} events (${h.mostEvents.type}), ${h.mostBytes.bytes} bytes (${h.mostBytes.type}); ${h.workflows} workflow runs`);
  expect(h.byType).toMatchObject({ batchRun: { count: m.pages }, bedrockJob: { count: 600 }, jobSlots: {} });
  expect(h.mostEvents.events).toBeLessThan(HISTORY_EVENTS_WARN);
  expect(h.mostBytes.bytes).toBeLessThan(HISTORY_BYTES_WARN);
}, 900_000);
