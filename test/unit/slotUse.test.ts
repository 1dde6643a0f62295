import { greedyMakespan, slotUse } from '../../src/core/slotUse';

const at = (atMs: number, active: number, ended: number) => ({ atMs, active, ended });

test('a window refilled at once has no shortfall and full slots', () => {
  // 4 jobs, 2 slots: each end is replaced in the same instant.
  const use = slotUse([at(0, 1, 0), at(0, 2, 0), at(10, 1, 1), at(10, 2, 1), at(20, 1, 2), at(20, 2, 2), at(30, 1, 3), at(30, 0, 4)], 2, 4);
  expect(use).toEqual({ makespanMs: 30, busyShare: 1, longestShortfallMs: 0 });
});

test('a page that drains shows as a shortfall lasting until the next start', () => {
  // 3 jobs, 2 slots, page of 2: job 1 ends at 5 but job 3 starts only when job 2 ends at 20.
  const use = slotUse([at(0, 1, 0), at(0, 2, 0), at(5, 1, 1), at(20, 0, 2), at(21, 1, 2), at(31, 0, 3)], 2, 3);
  expect(use.longestShortfallMs).toBe(16);
  expect(use.makespanMs).toBe(31);
  // Could run: 2 slots to 20 (one job left after), then 1: 10 + 30 + 1 + 10.
  expect(use.busyShare).toBeCloseTo((10 + 15 + 10) / 51);
});

test('the last jobs running alone are no shortfall: fewer jobs are left than slots', () => {
  expect(slotUse([at(0, 2, 0), at(5, 1, 1), at(20, 0, 2)], 2, 2).longestShortfallMs).toBe(0);
});

test('a timeline that never finishes the jobs is refused', () => {
  expect(() => slotUse([at(0, 1, 0)], 1, 2)).toThrow('does not cover 2 jobs');
});

test('greedy makespan fills whichever slot frees first', () => {
  expect(greedyMakespan([10, 2, 2, 2, 2], 2)).toBe(10);
  expect(greedyMakespan([4, 4, 4], 2)).toBe(8);
  expect(greedyMakespan([3], 5)).toBe(3);
});
