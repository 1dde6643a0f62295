/**
 * Crash matrix: `npm run crash-matrix -- --runs 20 [--seed N] [--span-ms MS] [--aim phases|none] [--only i,j] [--rows N]`
 *
 * Starts its own local stack (Temporal dev server, moto, the Bedrock emulator behind a proxy that
 * gives it a control plane's latency) and two worker processes (`src/worker.ts`). A first run
 * without a kill measures the span of a run; then each run gets its own input and one worker is
 * killed with SIGKILL: on every other run from the second while an activity of each phase in
 * turn runs on it (resolveRun … finalizeRun), on the others at a seeded random moment within the
 * span (stratified, so kills spread over the whole run; the worker running an activity is
 * preferred). A replacement is started at once, so two workers poll again. Prints a table (kill
 * time, activities in flight at the kill read from the run's and its shards' histories, recovery,
 * jobs created vs shards, rows in vs out) and a one-line summary; writes the results as JSON
 * under .local/crash-matrix/. The same seed gives the same plans (`--only 7` repeats run 7).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT } from '../src/config';
import { startLocalStack } from '../test/support/localStack';
import {
  CrashRunResult,
  DEFAULT_CONFIG,
  PHASES,
  Phase,
  describePlan,
  formatTable,
  inFlightLabel,
  openCrashMatrix,
  planKills,
  summaryLine,
} from '../test/support/crashMatrix';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
  return v;
}

function intArg(name: string, fallback: number): number {
  const v = arg(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${v}`);
  return n;
}

async function main(): Promise<void> {
  const runs = intArg('runs', 20);
  const seed = intArg('seed', Math.floor(Math.random() * 1_000_000));
  const rows = intArg('rows', DEFAULT_CONFIG.rows);
  const aimArg = arg('aim');
  const aims = (aimArg === undefined ? [...PHASES] : aimArg === 'none' ? [] : aimArg.split(',')) as Phase[];
  const unknown = aims.filter((a) => !(PHASES as readonly string[]).includes(a));
  if (unknown.length) throw new Error(`--aim takes ${PHASES.join(',')} or none; unknown: ${unknown.join(',')}`);
  const only = arg('only')?.split(',').map(Number);
  const log = (msg: string) => process.stderr.write(`${msg}\n`);

  log(`crash matrix: seed ${seed}, ${runs} runs of ${rows} rows (repeat with --seed ${seed})`);
  log('starting the local stack and two worker processes…');
  const stack = await startLocalStack({ inProgressMs: 1500 });
  const matrix = await openCrashMatrix(stack, seed, { rows });
  const results: CrashRunResult[] = [];
  const started = Date.now();
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping the workers and the local stack…`);
    void Promise.allSettled([matrix.close(), stack.stop()]).then(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await matrix.pool.fill();
    let spanMs = arg('span-ms') === undefined ? undefined : intArg('span-ms', 0);
    if (spanMs === undefined) {
      // Two runs without a kill (the first also warms the workers up); random kills fall in 90% of the shorter.
      const first = await matrix.calibrate();
      const cal = await matrix.calibrate();
      spanMs = Math.round(0.9 * Math.min(first.spanMs, cal.spanMs));
      log(`calibration runs (no kill): ${(first.spanMs / 1000).toFixed(1)} s, ${(cal.spanMs / 1000).toFixed(1)} s; random kills within ${(spanMs / 1000).toFixed(1)} s`);
      for (const p of cal.phases) log(`  ${p.type.padEnd(16)} ×${String(p.count).padEnd(3)} ${p.fromS.toFixed(1).padStart(5)} s → ${p.toS.toFixed(1).padStart(5)} s`);
    }
    const plans = planKills(runs, seed, spanMs, aims);
    for (let i = 0; i < runs; i++) {
      if (only && !only.includes(i + 1)) continue;
      log(`run ${i + 1}/${runs}: kill ${describePlan(plans[i])}…`);
      let r = await matrix.runOne(i + 1, plans[i]);
      // A run quicker than the span can end before its kill is due: run it again with the kill at the same share of that run's length.
      for (let attempt = 2; !r.killed && plans[i].kind === 'delay' && attempt <= 3; attempt++) {
        const plan = plans[i] as { kind: 'delay'; delayMs: number };
        const delayMs = Math.round((plan.delayMs / spanMs) * 0.9 * r.durationS * 1000);
        log(`  the run ended before its kill; again with the kill at t+${(delayMs / 1000).toFixed(1)}s…`);
        r = await matrix.runOne(i + 1, { kind: 'delay', delayMs }, attempt);
        r.plan = `${describePlan(plans[i])}→${(delayMs / 1000).toFixed(1)}s`;
      }
      results.push(r);
      log(
        `  killed ${r.victim ?? 'nobody'} at ${r.killAtS?.toFixed(1) ?? '—'} s; in flight: ${r.killed ? inFlightLabel(r.inFlight) : '—'}; ` +
          `recovery ${r.recoveryS?.toFixed(1) ?? '—'} s; jobs ${r.jobsCreated}/${r.shards}; rows ${r.rowsIn}/${r.rowsOut}; ` +
          `run ${r.durationS.toFixed(1)} s; ${r.ok ? 'ok' : `FAIL: ${r.problems.join('; ')}`}`,
      );
    }
  } finally {
    await matrix.close();
    await stack.stop();
  }
  const dir = resolve(REPO_ROOT, '.local/crash-matrix');
  mkdirSync(dir, { recursive: true });
  const file = resolve(dir, `seed-${seed}.json`);
  writeFileSync(file, `${JSON.stringify({ seed, runs, rows, results }, null, 2)}\n`);
  console.log(formatTable(results));
  console.log('');
  console.log(summaryLine(results, seed));
  log(`(${((Date.now() - started) / 60_000).toFixed(1)} min; results in ${file})`);
  process.exitCode = results.every((r) => r.ok) ? 0 : 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
