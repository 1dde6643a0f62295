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
 * before continuing as new would leave slots idle for the slowest job of each page (~10 s × 11);
 * the window keeps them within a handoff of full. The issue's 98% and 1.02× are the benchmark's
 * (bench/window.ts, 14 s median jobs): a share of seconds-long jobs depends on the machine's load,
 * so the bounds here are what a working window always meets and a draining one cannot.
 */
test('600 shards, 20 slots, pages of 50: slots stay full across 11 continue-as-new, every row is written once, and every history stays under the warnings', async () => {
  const durationsMs = skewedDurations(600, 11, 6_000, 3_000, 30_000);
  const m = await measureWindow(env.stack, env.worker.client, { name: 'wm', jobs: 600, slots: 20, page: 50, events: true, durationsMs });
  const events = { emulator: env.stack.emulator.stats().events, consumer: env.worker.jobEventStats?.() };
  console.log(
    `window measure: busy ${(m.use.busyShare * 100).toFixed(1)}%, makespan ${m.ratio.toFixed(3)}× the ideal, ${m.pages} pages, longest shortfall ${m.use.longestShortfallMs} ms; events ${JSON.stringify(events)}`,
  );

  expect(m.summary).toMatchObject({ outcome: 'complete', rows: 60_000, succeeded: 60_000 });
  expect(m.pages).toBeGreaterThanOrEqual(11);
  expect(env.stack.emulator.stats()).toMatchObject({ jobsCreated: 600, peakActiveJobs: 20, quotaRefusals: 0 });
  expect(m.use.busyShare).toBeGreaterThanOrEqual(0.9);
  expect(m.ratio).toBeLessThanOrEqual(1.1);
  const rows = await readRunOutput(env.stack.s3, m.summary.outputUris);
  expect(new Set(rows.map((r) => r.record_id)).size).toBe(60_000);

  // Every page, shard and the job-slot budget stays under Temporal's history warnings.
  const h = await historySizes(env.worker.client, m.workflowId);
  console.log(`largest histories: ${h.mostEvents.events} events (${h.mostEvents.type}), ${h.mostBytes.bytes} bytes (${h.mostBytes.type}); ${h.workflows} workflow runs`);
  expect(h.byType).toMatchObject({ batchRun: { count: m.pages }, bedrockJob: { count: 600 }, jobSlots: {} });
  expect(h.mostEvents.events).toBeLessThan(HISTORY_EVENTS_WARN);
  expect(h.mostBytes.bytes).toBeLessThan(HISTORY_BYTES_WARN);
}, 900_000);
