/**
 * Scale benchmark (issue 10): one run of many shards on fast emulator timings, then every
 * workflow's history length and size (the run's pages, its shards, the job-slot budget) against
 * Temporal's warning thresholds. Prints the largest history by events and by bytes, per type.
 *
 *   npx tsx bench/scale.ts [--shards 5000] [--slots 20] [--page 250]
 */
import { startLocalStack } from '../test/support/localStack';
import { HISTORY_BYTES_WARN, HISTORY_EVENTS_WARN, measureScale } from '../test/support/scaleMeasure';
import { startWorker } from '../test/support/worker';
import { numberArg } from './args';

async function main(): Promise<void> {
  const shards = numberArg('shards', 5000);
  const slots = numberArg('slots', 20);
  const page = numberArg('page', 250);
  const stack = await startLocalStack({ inProgressMs: 200 });
  const worker = await startWorker(stack);
  try {
    Object.assign(process.env, stack.env);
    const m = await measureScale(stack, worker.client, { name: 'bench-scale', shards, slots, page });
    const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
    console.log(`${shards} shards, ${slots} at once, pages of ${page}: ${m.summary.outcome}, ${m.summary.rows} rows, ${(m.wallMs / 1000).toFixed(0)} s, ${m.workflows} workflow runs`);
    console.log('type          runs  most events  most bytes');
    for (const [type, t] of Object.entries(m.byType)) console.log(`${type.padEnd(12)} ${String(t.count).padStart(5)}  ${String(t.events).padStart(11)}  ${String(t.bytes).padStart(10)}`);
    const e = m.mostEvents;
    const b = m.mostBytes;
    console.log(`largest by events: ${e.workflowId} (${e.type}) ${e.events} events (warning at ${HISTORY_EVENTS_WARN}): ${met(e.events < HISTORY_EVENTS_WARN)}`);
    console.log(`largest by bytes: ${b.workflowId} (${b.type}) ${b.bytes} bytes (warning at ${HISTORY_BYTES_WARN}): ${met(b.bytes < HISTORY_BYTES_WARN)}`);
    console.log(`run complete with every row: ${met(m.summary.outcome === 'complete' && m.summary.rows === shards * 100)}`);
  } finally {
    await worker.stop();
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
