import {
  CHANGES_KEPT,
  MAX_CONCURRENT_JOBS,
  applyBudget,
  applyMaxConcurrentJobs,
  applyPaused,
  changeLine,
  checkBudget,
  checkMaxConcurrentJobs,
  checkText,
  controlRows,
  initialControls,
  lastChange,
} from '../../src/shared/controls';
import { runDetails } from '../../src/workflows/runBoard';

const AT = '2025-01-01T00:00:00.000Z';

test('maxConcurrentJobs takes whole numbers from 1 to the most a run input may ask for', () => {
  for (const ok of [1, 3, MAX_CONCURRENT_JOBS]) expect(checkMaxConcurrentJobs(ok)).toBeUndefined();
  for (const bad of [0, -1, 2.5, MAX_CONCURRENT_JOBS + 1, '3', null, undefined, Number.NaN]) {
    expect(checkMaxConcurrentJobs(bad)).toMatch(/^maxConcurrentJobs must be a whole number from 1 to 1000, got /);
  }
  expect(checkMaxConcurrentJobs('abc')).toBe('maxConcurrentJobs must be a whole number from 1 to 1000, got "abc"');
});

test('a budget is a positive amount, or null to lift it', () => {
  for (const ok of [0.01, 5, null]) expect(checkBudget(ok)).toBeUndefined();
  for (const bad of [0, -1, Number.POSITIVE_INFINITY, 'none', undefined]) expect(checkBudget(bad)).toMatch(/^budgetUsd must be a positive number/);
});

test('by and reasons are optional short text', () => {
  expect(checkText('by', undefined)).toBeUndefined();
  expect(checkText('reason', null)).toBeUndefined();
  expect(checkText('by', 'alice@laptop')).toBeUndefined();
  expect(checkText('reason', 'x'.repeat(201))).toBe('reason must be text of at most 200 characters, got 201 characters');
  expect(checkText('by', 7)).toBe('by must be text of at most 200 characters, got 7');
});

test('changes are logged old → new with who and when; a no-op is not logged', () => {
  const state = initialControls({ maxConcurrentJobs: 1, budgetUsd: 2 });
  expect(applyMaxConcurrentJobs(state, 3, 'alice@laptop', AT)).toEqual({ maxConcurrentJobs: 3, paused: false, budgetUsd: 2 });
  expect(applyPaused(state, true, 'quota review', 'bob', AT)).toEqual({ maxConcurrentJobs: 3, paused: true, pauseReason: 'quota review', budgetUsd: 2 });
  expect(applyPaused(state, false, undefined, 'bob', AT).pauseReason).toBeUndefined();
  applyBudget(state, null, 'carol', AT);
  applyMaxConcurrentJobs(state, 3, 'dave', AT);
  expect(state.changeCount).toBe(4);
  expect(state.changes.map(changeLine)).toEqual([
    `maxConcurrentJobs 1 → 3 by alice@laptop at ${AT}`,
    `paused submitting → paused by bob at ${AT} (quota review)`,
    `paused paused → submitting by bob at ${AT}`,
    `budgetUsd USD 2 → none by carol at ${AT}`,
  ]);
  expect(lastChange(state, 'budgetUsd')?.by).toBe('carol');
  expect(controlRows(state)[0]).toEqual(['settings', '3 jobs at once · submitting · budget none']);
  expect(controlRows(state)[1][1]).toMatch(/^4 in all; budgetUsd USD 2 → none by carol/);
});

test('the log keeps the last changes and counts them all, so the continuation stays small', () => {
  const state = initialControls({ maxConcurrentJobs: 1 });
  for (let n = 2; n < 2 + CHANGES_KEPT + 5; n++) applyMaxConcurrentJobs(state, n, 'ops', AT);
  expect(state.changeCount).toBe(CHANGES_KEPT + 5);
  expect(state.changes).toHaveLength(CHANGES_KEPT);
  expect(state.changes[CHANGES_KEPT - 1].to).toBe(CHANGES_KEPT + 6);
});

test("the run's Web UI details show the settings and who changed them", () => {
  const controls = initialControls({ maxConcurrentJobs: 2 });
  applyPaused(controls, true, 'quota review', 'alice@laptop', AT);
  const totals = { shardsDone: 0, shardsFailed: 0, rows: 0, succeeded: 0, failed: 0, inputTokens: 0, outputTokens: 0, failedShards: [] };
  const md = runDetails({ phase: 'running', shardsStarted: 1, shardsRunning: 0, totals, controls });
  expect(md).toContain('| settings | 2 jobs at once · paused (quota review) · budget none |');
  expect(md).toContain(`| changes | 1 in all; paused submitting → paused by alice@laptop at ${AT} (quota review) |`);
});
