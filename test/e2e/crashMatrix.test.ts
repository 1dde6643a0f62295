import { writeFileSync } from 'node:fs';
import { LocalStack, startLocalStack } from '../support/localStack';
import { CrashMatrix, CrashRunResult, KillPlan, RECOVERY_LIMIT_S, aimedAt, formatTable, openCrashMatrix, prng, summaryLine } from '../support/crashMatrix';

/**
 * Issue 8, crash matrix (CI part; `npm run crash-matrix -- --runs 20` covers every phase, resolve
 * and planning included, whose kills cost up to their 90 s / 2 min timeouts). Five runs, each
 * with two worker processes polling; one is killed with SIGKILL while a preprocessing part, a
 * Bedrock submit, a shard's collect or the final activity runs on it, or at a seeded random
 * moment while jobs run. A replacement starts at once.
 */
const SEED = Number(process.env.CRASH_MATRIX_SEED ?? 8);

let stack: LocalStack;
let matrix: CrashMatrix;

beforeAll(async () => {
  stack = await startLocalStack({ inProgressMs: 1500 });
  matrix = await openCrashMatrix(stack, SEED);
  await matrix.pool.fill();
}, 240_000);

afterAll(async () => {
  await matrix?.close();
  await stack?.stop();
});

test(`workers SIGKILLed at five points of a 6-job run (seed ${SEED}): every run completes, one Bedrock job per shard, every row once, moving again within 2 min`, async () => {
  // A run takes ~11-13 s unkilled: preprocessing to ~3 s, jobs to ~12 s. The random kill falls among the jobs.
  const plans: KillPlan[] = [
    { kind: 'aim', activity: 'preparePart' },
    { kind: 'aim', activity: 'submitJob' },
    { kind: 'delay', delayMs: Math.round(3_000 + prng(SEED)() * 6_000) },
    { kind: 'aim', activity: 'collectShard' },
    { kind: 'aim', activity: 'finalizeRun' },
  ];
  const results: CrashRunResult[] = [];
  for (const [i, plan] of plans.entries()) results.push(await matrix.runOne(i + 1, plan));

  const table = formatTable(results);
  // Quiet by default; CRASH_MATRIX_TABLE=<file> keeps the table.
  if (process.env.CRASH_MATRIX_TABLE) writeFileSync(process.env.CRASH_MATRIX_TABLE, `${table}\n\n${summaryLine(results, SEED)}\n`);
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) throw new Error(`crash matrix (seed ${SEED}) failed:\n${table}`);
  for (const r of results) {
    expect(r.killed).toBe(true);
    expect(r.outcome).toBe('complete');
    expect(r.shards).toBeGreaterThanOrEqual(5);
    expect(r.jobsCreated).toBe(r.shards);
    expect(r.rowsOut).toBe(r.rowsIn);
    expect(r.uniqueOut).toBe(r.rowsIn);
    expect(r.missing).toBe(0);
    expect(r.recoveryS).toBeLessThanOrEqual(RECOVERY_LIMIT_S);
  }
  // The aimed kills took an activity of that type down with the worker.
  for (const [i, plan] of plans.entries()) {
    if (plan.kind === 'aim') expect(results[i].inFlight.some((f) => aimedAt(plan.activity, f.type) && f.lost)).toBe(true);
  }
}, 600_000);
