import { CsvRangeLayout, MAX_PARTS, PartPlanLimits, RowGroupLayout, planCsvParts, planRowGroupParts } from '../../src/core/partPlan';
import { ShardPlanError, planShards, shardSizesFrom } from '../../src/core/shardPlan';
import type { InputPart } from '../../src/shared/types';

type RowGroupPart = Extract<InputPart, { kind: 'rowGroups' }>;
type CsvPart = Extract<InputPart, { kind: 'csvRange' }>;

const limits = (maxRecords: number, partBytes: number, maxRows?: number): PartPlanLimits => ({ minRecords: 100, maxRecords, partBytes, maxRows });
const group = (rows: number, bytes: number): RowGroupLayout => ({ rows, bytes });

/** A small deterministic PRNG (mulberry32), so a failing case can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Splits `rows` into `n`-ish random pieces (some empty), as row groups or CSV ranges might fall. */
function pieces(rows: number, next: () => number): number[] {
  const out: number[] = [];
  for (let left = rows; left > 0; ) {
    const take = next() < 0.1 ? 0 : Math.min(left, 1 + Math.floor(next() * Math.max(1, rows / 3)));
    out.push(take);
    left -= take;
  }
  return out;
}

const feasible = (n: number, max: number) => n >= 100 && Math.ceil(n / max) * 100 <= n;

/**
 * What a part reads, as openSourcePart reads it: the rows of its units (consecutive input rows
 * from the first unit's first row), minus its leading rows, then `rows` of them.
 */
interface Read {
  firstRow: number;
  rows: number;
  unitRows: number;
}

function readOf(unitFirstRow: number, unitRows: number, leading: number, rows: number): Read {
  return { firstRow: unitFirstRow + leading, rows: Math.min(rows, unitRows - leading), unitRows };
}

/** What every plan must hold: parts are runs of the run's whole shards, in order, reading exactly their rows. */
function expectSound(parts: InputPart[], total: number, max: number, readOfPart: (p: InputPart) => Read) {
  // Checked in plain code, one expect per plan: thousands of plans are checked.
  const problems: string[] = [];
  const runShards = [...shardSizesFrom(planShards(total, { minRecords: 100, maxRecords: max }))];
  if (runShards.some((size) => size < 100 || size > max)) problems.push(`a shard outside 100..${max}`);
  if (parts.length > MAX_PARTS) problems.push(`${parts.length} parts`);
  let row = 0;
  let shard = 0;
  parts.forEach((p, i) => {
    const planned = (p as RowGroupPart | CsvPart).plannedShards ?? 0;
    const own = [...shardSizesFrom({ records: p.rows!, shards: planned })];
    const read = readOfPart(p);
    if (p.index !== i || p.firstRow !== row || planned < 1) problems.push(`part ${i}: index ${p.index}, first row ${p.firstRow}, ${planned} shards`);
    // The part's own even split is exactly the run's shards it holds.
    if (own.join() !== runShards.slice(shard, shard + planned).join()) problems.push(`part ${i}: shards ${own} are not the run's`);
    if (read.firstRow !== row || read.rows !== p.rows) problems.push(`part ${i}: reads ${read.rows} rows from ${read.firstRow}`);
    row += p.rows!;
    shard += planned;
  });
  if (row !== total || shard !== runShards.length) problems.push(`${row} rows and ${shard} shards planned of ${total} and ${runShards.length}`);
  expect(problems).toEqual([]);
}

describe('planning parts as groups of the run-wide shards', () => {
  const rowCounts = [0, 1, 99, 100, 101, 150, 183, 199, 200, 201, 250, 299, 300, 599, 600, 601, 999, 1000, 1001, 2550, 4321, 10_000, 123_457];
  const maxes = [100, 101, 150, 199, 200, 333, 500, 50_000];
  const partSizes = [1, 100, 4096, 20_000, 1e6, 1e12];

  it('Parquet: every valid row count runs at every partBytes, and every part reads exactly its rows', () => {
    const next = random(1);
    for (const n of rowCounts) {
      // Several files of random row groups (some empty), ~50 bytes a row.
      const files = pieces(n, next).reduce<RowGroupLayout[][]>((fs, rows) => {
        if (!fs.length || next() < 0.3) fs.push([]);
        fs[fs.length - 1].push(group(rows, rows * (40 + Math.floor(next() * 20))));
        return fs;
      }, []);
      const flat = files.flat();
      const firstRows = flat.map((_, i) => flat.slice(0, i).reduce((s, g) => s + g.rows, 0));
      const fileStarts = files.map((_, f) => files.slice(0, f).reduce((s, fl) => s + fl.length, 0));
      for (const max of maxes) {
        for (const partBytes of partSizes) {
          const plan = () => planRowGroupParts(files, limits(max, partBytes));
          if (!feasible(n, max)) {
            expect(plan).toThrow(ShardPlanError);
            continue;
          }
          expectSound(plan(), n, max, (p) => {
            const part = p as RowGroupPart;
            const units = part.spans.flatMap((s) => Array.from({ length: s.end - s.start }, (_, k) => fileStarts[s.file] + s.start + k));
            // The spans skip only empty row groups: the rows they hold are consecutive.
            const between = flat.slice(units[0], units[units.length - 1] + 1).filter((g) => g.rows > 0).length;
            const rows = units.reduce((sum, u) => sum + flat[u].rows, 0);
            return units.length === between ? readOf(firstRows[units[0]], rows, part.leadingRows!, part.rows) : { firstRow: -1, rows: -1, unitRows: rows };
          });
        }
      }
    }
  });

  it('CSV: every valid row count runs at every partBytes, and every part reads exactly its rows', () => {
    const next = random(2);
    for (const n of rowCounts) {
      let byte = 10;
      let row = 0;
      const ranges: CsvRangeLayout[] = pieces(n, next)
        .filter((rows) => rows > 0)
        .map((rows) => {
          const r = { startByte: byte, endByte: byte + rows * (40 + Math.floor(next() * 20)), firstRow: row, rows, firstLine: row + 2 };
          byte = r.endByte;
          row += rows;
          return r;
        });
      for (const max of maxes) {
        for (const partBytes of partSizes) {
          const plan = () => planCsvParts(ranges, limits(max, partBytes));
          if (!feasible(n, max)) {
            expect(plan).toThrow(ShardPlanError);
            continue;
          }
          expectSound(plan(), n, max, (p) => {
            const part = p as CsvPart;
            const first = ranges.findIndex((r) => r.startByte === part.startByte);
            const last = ranges.findIndex((r) => r.endByte === part.endByte);
            const rangeRows = ranges.slice(first, last + 1).reduce((s, r) => s + r.rows, 0);
            const consistent = part.firstLine === ranges[first].firstLine && part.rangeRows === rangeRows;
            return consistent ? readOf(ranges[first].firstRow, rangeRows, part.leadingRows!, part.rows) : { firstRow: -1, rows: -1, unitRows: rangeRows };
          });
        }
      }
    }
  });

  it('plans only the first maxRows rows, and fails the same way on them', () => {
    const files = [[group(300, 1000), group(300, 1000), group(300, 1000)]];
    const parts = planRowGroupParts(files, limits(200, 1, 450)) as RowGroupPart[];
    expect(parts.map((p) => [p.firstRow, p.rows, p.leadingRows, p.plannedShards])).toEqual([
      [0, 150, 0, 1],
      [150, 150, 150, 1],
      [300, 150, 0, 1],
    ]);
    expect(parts[2].spans).toEqual([{ file: 0, start: 1, end: 2 }]);
    expect(() => planRowGroupParts(files, limits(100, 1, 450))).toThrow(/cannot split 450 records into jobs of 100..100/);
  });
});

describe('planRowGroupParts', () => {
  it('closes a part at the shard boundary nearest to partBytes', () => {
    // 10 shards of 100 rows, 72 bytes each: parts of 4 shards (288 bytes) are nearer 256 than 3 (216).
    const parts = planRowGroupParts([[group(1000, 720)]], limits(100, 256)) as RowGroupPart[];
    expect(parts.map((p) => p.plannedShards)).toEqual([4, 4, 2]);
    expect(parts.map((p) => [p.firstRow, p.leadingRows])).toEqual([
      [0, 0],
      [400, 400],
      [800, 800],
    ]);
  });

  it('numbers rows across files and skips empty row groups and files', () => {
    const parts = planRowGroupParts([[group(0, 0), group(300, 400)], [], [group(0, 0), group(300, 400)]], limits(300, 100)) as RowGroupPart[];
    expect(parts.map((p) => [p.firstRow, p.rows, p.leadingRows])).toEqual([
      [0, 300, 0],
      [300, 300, 0],
    ]);
    expect(parts[0].spans).toEqual([{ file: 0, start: 1, end: 2 }]);
    expect(parts[1].spans).toEqual([{ file: 2, start: 1, end: 2 }]);
    expect(() => planRowGroupParts([[group(0, 0)], []], limits(300, 100))).toThrow(/no rows/);
  });

  it(`never plans more than ${MAX_PARTS} parts`, () => {
    const groups = Array.from({ length: 3000 }, () => group(1000, 1000));
    const parts = planRowGroupParts([groups], limits(100, 1));
    expect(parts.length).toBeLessThanOrEqual(MAX_PARTS);
    expect(parts.reduce((n, p) => n + (p.rows ?? 0), 0)).toBe(3_000_000);
  });
});

describe('planCsvParts', () => {
  it('cuts the 600-row CSV of partBytes 4096 and 100 records a job into six parts of one shard each', () => {
    const ranges = [{ startByte: 20, endByte: 20 + 600 * 60, firstRow: 0, rows: 600, firstLine: 2 }];
    const parts = planCsvParts(ranges, limits(100, 4096)) as CsvPart[];
    expect(parts.map((p) => [p.firstRow, p.rows, p.leadingRows, p.plannedShards, p.startByte, p.rangeRows])).toEqual(
      Array.from({ length: 6 }, (_, i) => [i * 100, 100, i * 100, 1, 20, 600]),
    );
  });

  it('reads whole ranges from the one holding the first row to the one holding the last', () => {
    const ranges = [
      { startByte: 10, endByte: 600, firstRow: 0, rows: 400, firstLine: 2 },
      { startByte: 600, endByte: 1700, firstRow: 400, rows: 700, firstLine: 402 },
      { startByte: 1700, endByte: 1800, firstRow: 1100, rows: 40, firstLine: 1102 },
    ];
    const parts = planCsvParts(ranges, limits(400, 500)) as CsvPart[];
    // 1,140 rows: three shards of 380.
    expect(parts.map((p) => [p.firstRow, p.rows, p.startByte, p.endByte, p.firstLine, p.leadingRows, p.rangeRows])).toEqual([
      [0, 380, 10, 600, 2, 0, 400],
      [380, 380, 10, 1700, 2, 380, 1100],
      [760, 380, 600, 1800, 402, 360, 740],
    ]);
  });
});
