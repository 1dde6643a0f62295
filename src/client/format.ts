/** Pure text formatting for the CLI: money, counts, durations, bars, tables. No I/O, so unit-tested. */

/** Dollars rounded to cents, as a person reads a bill; a cost under half a cent still shows it is not zero. */
export function money(usd: number | undefined): string {
  if (usd === undefined || !Number.isFinite(usd)) return 'no price';
  if (usd > 0 && usd < 0.005) return '<$0.01';
  return `$${usd.toFixed(2)}`;
}

/** Money in machine output: six decimals (what the price table carries), without float noise like 0.18180000000000002. */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** `45s`, `3m 20s`, `2h 05m`, `3d 04h`: two units at most, since an ETA is rough anyway. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${String(h % 24).padStart(2, '0')}h`;
}

/**
 * Time left at the rate seen so far: `done` of `total` units took `elapsedMs`. Undefined until
 * something is done (no rate yet), and once everything is.
 */
export function etaMs(done: number, total: number, elapsedMs: number): number | undefined {
  if (done <= 0 || elapsedMs <= 0 || done >= total) return undefined;
  return ((total - done) * elapsedMs) / done;
}

/** `[########------------]  40%`: a bar of `width` cells. */
export function bar(done: number, total: number, width = 24): string {
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%`;
}

/** Rows of cells as aligned columns (two spaces apart); the last column is not padded. */
export function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd());
}
