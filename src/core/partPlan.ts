import type { InputPart, RowGroupSpan } from '../shared/types';
import { EvenSplit, ShardLimits, planShards, shardRecords } from './shardPlan';

/**
 * Cutting the input into preprocessing parts. The run's shards are planned first, from its row
 * count (`planShards`, which the estimate shares); a part is then a run of whole shards, closed at
 * the shard boundary nearest to `partBytes` of input. So part boundaries never change the shards:
 * any partBytes runs any input that a single part would. The part count is capped so the plan
 * stays small in workflow history.
 */
export const MAX_PARTS = 500;

export interface PartPlanLimits extends Pick<ShardLimits, 'minRecords' | 'maxRecords'> {
  /** Input bytes a part aims at (it closes at the shard boundary nearest to it). */
  partBytes: number;
  /** Only the first `maxRows` rows are planned (the run's maxRecords). */
  maxRows?: number;
}

/** A stretch of input whose rows and bytes the layout knows: a row group, a scanned CSV range. */
export interface InputUnit {
  rows: number;
  bytes: number;
}

export type RowGroupLayout = InputUnit;

/**
 * A part as rows and shards, and the units it reads: `first`..`last` (`unitRows` rows), of which
 * the first `leadingRows` and those after its own rows belong to its neighbours.
 */
interface PlannedPart {
  firstRow: number;
  rows: number;
  shards: number;
  first: number;
  last: number;
  leadingRows: number;
  unitRows: number;
}

/** Prefix sums over the units, to find the unit of a row and the input bytes before it. */
class UnitIndex {
  private readonly rowsBefore: Float64Array;
  private readonly bytesBefore: Float64Array;

  constructor(private readonly units: InputUnit[]) {
    this.rowsBefore = new Float64Array(units.length + 1);
    this.bytesBefore = new Float64Array(units.length + 1);
    units.forEach((u, i) => {
      this.rowsBefore[i + 1] = this.rowsBefore[i] + u.rows;
      this.bytesBefore[i + 1] = this.bytesBefore[i] + u.bytes;
    });
  }

  get totalRows(): number {
    return this.rowsBefore[this.units.length];
  }

  firstRowOf(unit: number): number {
    return this.rowsBefore[unit];
  }

  /** Rows in units first..last. */
  rowsOf(first: number, last: number): number {
    return this.rowsBefore[last + 1] - this.rowsBefore[first];
  }

  /** The unit holding `row` (< totalRows): the last one starting at or before it, so never an empty one. */
  unitOf(row: number): number {
    let lo = 0;
    let hi = this.units.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.rowsBefore[mid] <= row) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Input bytes before `row`, taking the rows of a unit as equally long. */
  bytesAt(row: number): number {
    if (row >= this.totalRows) return this.bytesBefore[this.units.length];
    const u = this.unitOf(row);
    return this.bytesBefore[u] + ((row - this.rowsBefore[u]) * this.units[u].bytes) / this.units[u].rows;
  }
}

/** Whole shards grouped into parts, each closed at the shard boundary nearest to `partBytes`. */
function groupShards(index: UnitIndex, split: EvenSplit, partBytes: number): Array<{ firstRow: number; rows: number; shards: number }> {
  const parts: Array<{ firstRow: number; rows: number; shards: number }> = [];
  let open: { firstRow: number; rows: number; shards: number; bytes: number } | undefined;
  let row = 0;
  for (let shard = 0; shard < split.shards; shard++) {
    const size = shardRecords(split, shard);
    const bytes = index.bytesAt(row + size) - index.bytesAt(row);
    // Closes before this shard when the part is nearer partBytes without it than with it.
    if (open && open.bytes + bytes - partBytes > partBytes - open.bytes) {
      parts.push(open);
      open = undefined;
    }
    open ??= { firstRow: row, rows: 0, shards: 0, bytes: 0 };
    open.rows += size;
    open.shards += 1;
    open.bytes += bytes;
    row += size;
    if (open.bytes >= partBytes) {
      parts.push(open);
      open = undefined;
    }
  }
  if (open) parts.push(open);
  return parts.map(({ firstRow, rows, shards }) => ({ firstRow, rows, shards }));
}

/** The run's shards from its row count, grouped into at most MAX_PARTS parts over `units` (in input order). */
function planParts(units: InputUnit[], limits: PartPlanLimits): PlannedPart[] {
  const index = new UnitIndex(units);
  const split = planShards(Math.min(index.totalRows, limits.maxRows ?? Infinity), limits);
  for (let partBytes = limits.partBytes; ; partBytes *= 2) {
    const groups = groupShards(index, split, partBytes);
    if (groups.length > MAX_PARTS) continue;
    return groups.map((g) => {
      const first = index.unitOf(g.firstRow);
      const last = index.unitOf(g.firstRow + g.rows - 1);
      return { ...g, first, last, leadingRows: g.firstRow - index.firstRowOf(first), unitRows: index.rowsOf(first, last) };
    });
  }
}

/** Parts over a source's Parquet files (listing order; rows numbered across files): row-group spans, entered mid-group where a part starts there. */
export function planRowGroupParts(files: RowGroupLayout[][], limits: PartPlanLimits): InputPart[] {
  const groups = files.flatMap((file, f) => file.map((g, i) => ({ ...g, file: f, group: i })));
  return planParts(groups, limits).map((p, index) => ({
    index,
    kind: 'rowGroups',
    firstRow: p.firstRow,
    rows: p.rows,
    spans: spansOf(groups.slice(p.first, p.last + 1).filter((g) => g.rows > 0)),
    leadingRows: p.leadingRows,
    plannedShards: p.shards,
  }));
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

/** Parts over consecutive CSV ranges: each reads whole ranges, keeping only its own rows of them. */
export function planCsvParts(ranges: CsvRangeLayout[], limits: PartPlanLimits): InputPart[] {
  const units = ranges.map((r) => ({ rows: r.rows, bytes: r.endByte - r.startByte }));
  return planParts(units, limits).map((p, i) => ({
    index: i,
    kind: 'csvRange',
    firstRow: p.firstRow,
    rows: p.rows,
    startByte: ranges[p.first].startByte,
    endByte: ranges[p.last].endByte,
    firstLine: ranges[p.first].firstLine,
    leadingRows: p.leadingRows,
    rangeRows: p.unitRows,
    plannedShards: p.shards,
  }));
}
