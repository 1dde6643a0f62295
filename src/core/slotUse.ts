/**
 * How well a run kept its job slots busy, from a timeline of active-job counts (the emulator's
 * stats().activeTimeline). Pure, so the rolling-window test and benchmark share one definition.
 */
export interface ActivePoint {
  atMs: number;
  active: number;
  /** Jobs ended so far. */
  ended: number;
}

export interface SlotUse {
  /** From the first job start to the last job end. */
  makespanMs: number;
  /**
   * Time-weighted active jobs over what could run at each moment, min(limit, jobs not yet ended):
   * the tail where fewer jobs are left than slots counts against no one.
   */
  busyShare: number;
  /** The longest stretch with fewer jobs running than min(limit, jobs not yet ended). */
  longestShortfallMs: number;
}

/** `total` jobs, at most `limit` at once; points in time order, the count holding until the next point. */
export function slotUse(points: ActivePoint[], limit: number, total: number): SlotUse {
  const start = points.findIndex((p) => p.active > 0);
  const end = points.findIndex((p) => p.ended >= total);
  if (start < 0 || end < 0) throw new Error(`the timeline does not cover ${total} jobs from start to end`);
  let busy = 0;
  let possible = 0;
  let longest = 0;
  let shortSince: number | undefined;
  for (let i = start; i < end; i++) {
    const p = points[i];
    const span = points[i + 1].atMs - p.atMs;
    const cap = Math.min(limit, total - p.ended);
    busy += p.active * span;
    possible += cap * span;
    const short = p.active < cap;
    if (short) shortSince ??= p.atMs;
    else shortSince = undefined;
    if (shortSince !== undefined) longest = Math.max(longest, points[i + 1].atMs - shortSince);
  }
  const makespanMs = points[end].atMs - points[start].atMs;
  return { makespanMs, busyShare: possible > 0 ? busy / possible : 0, longestShortfallMs: longest };
}

/** The ideal: jobs taken in order by whichever of `slots` frees first, with no gap between jobs. */
export function greedyMakespan(durationsMs: number[], slots: number): number {
  const free = new Array<number>(Math.max(1, slots)).fill(0);
  for (const d of durationsMs) {
    const i = free.indexOf(Math.min(...free));
    free[i] += d;
  }
  return Math.max(...free);
}
