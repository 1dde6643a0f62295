import type { InputPart, RowGroupSpan } from '../shared/types';

/**
 * Cutting the input into preprocessing parts. Each part becomes one activity and its own run of
 * shards, so a part must hold at least a job's minimum of records; the part count is capped so
 * the plan stays small in workflow history.
 */
export const MAX_PARTS = 500;

export interface PartPlanLimits {
  /** Input bytes a part aims at (a part closes at the first boundary at or after it). */
  partBytes: number;
  /** Fewest rows a part may have: Bedrock's minimum records per job. */
  minRows: number;
  /** Only the first `maxRows` rows are planned (the run's maxRecords). */
  maxRows?: number;
}

export interface RowGroupLayout {
  rows: number;
  bytes: number;
}

interface Draft<T> {
  rows: number;
  bytes: number;
  items: T[];
}

/**
 * Greedy cut of sized items into parts of at least `partBytes` and `minRows`, then a short tail
 * merged into the part before it. `items` are (rows, bytes) in input order.
 */
function cut<T>(items: Array<{ rows: number; bytes: number; item: T }>, partBytes: number, minRows: number): Array<Draft<T>> {
  const parts: Array<Draft<T>> = [];
  let open: Draft<T> | undefined;
  for (const { rows, bytes, item } of items) {
    if (rows === 0) continue;
    open ??= { rows: 0, bytes: 0, items: [] };
    open.rows += rows;
    open.bytes += bytes;
    open.items.push(item);
    if (open.bytes >= partBytes && open.rows >= minRows) {
      parts.push(open);
      open = undefined;
    }
  }
  if (open) {
    const last = parts[parts.length - 1];
    if (last && open.rows < minRows) {
      last.rows += open.rows;
      last.bytes += open.bytes;
      last.items.push(...open.items);
    } else parts.push(open);
  }
  return parts;
}

/** Doubles the part size until the plan has at most MAX_PARTS parts. */
function capped<T>(plan: (partBytes: number) => T[], partBytes: number): T[] {
  for (let bytes = partBytes; ; bytes *= 2) {
    const parts = plan(bytes);
    if (parts.length <= MAX_PARTS) return parts;
  }
}

/** Parts of whole row groups over a source's Parquet files (listing order); rows numbered across files. */
export function planRowGroupParts(files: RowGroupLayout[][], limits: PartPlanLimits): InputPart[] {
  const groups: Array<{ rows: number; bytes: number; item: { file: number; group: number; rows: number } }> = [];
  let taken = 0;
  files.forEach((file, f) =>
    file.forEach((g, i) => {
      const room = limits.maxRows === undefined ? g.rows : Math.max(0, Math.min(g.rows, limits.maxRows - taken));
      // A row group cut short by maxRows is still read from its start; its bytes count in full.
      groups.push({ rows: room, bytes: g.bytes, item: { file: f, group: i, rows: room } });
      taken += room;
    }),
  );
  const drafts = capped((bytes) => cut(groups, bytes, limits.minRows), limits.partBytes);
  let firstRow = 0;
  return drafts.map((d, index) => {
    const part: InputPart = { index, kind: 'rowGroups', firstRow, rows: d.rows, spans: spansOf(d.items) };
    firstRow += d.rows;
    return part;
  });
}

function spansOf(groups: Array<{ file: number; group: number }>): RowGroupSpan[] {
  const spans: RowGroupSpan[] = [];
  for (const { file, group } of groups) {
    const last = spans[spans.length - 1];
    if (last && last.file === file && last.end === group) last.end = group + 1;
    else spans.push({ file, start: group, end: group + 1 });
  }
  return spans;
}

/** A CSV range that starts at a record boundary, as a boundary scan reports it. */
export interface CsvRangeLayout {
  startByte: number;
  endByte: number;
  firstRow: number;
  rows: number;
  firstLine: number;
}

/** Parts over consecutive CSV ranges (merged where a range is short of rows), cut at maxRows. */
export function planCsvParts(ranges: CsvRangeLayout[], limits: PartPlanLimits): InputPart[] {
  const items: Array<{ rows: number; bytes: number; item: CsvRangeLayout & { truncated: boolean } }> = [];
  let taken = 0;
  for (const r of ranges) {
    const room = limits.maxRows === undefined ? r.rows : Math.max(0, Math.min(r.rows, limits.maxRows - taken));
    items.push({ rows: room, bytes: r.endByte - r.startByte, item: { ...r, rows: room, truncated: room < r.rows } });
    taken += room;
  }
  const drafts = capped((bytes) => cut(items, bytes, limits.minRows), limits.partBytes);
  return drafts.map((d, index) => {
    const first = d.items[0];
    const last = d.items[d.items.length - 1];
    const part: InputPart = { index, kind: 'csvRange', firstRow: first.firstRow, rows: d.rows, startByte: first.startByte, endByte: last.endByte, firstLine: first.firstLine };
    return last.truncated ? { ...part, truncated: true } : part;
  });
}
