import { MAX_PARTS, planCsvParts, planRowGroupParts } from '../../src/core/partPlan';
import type { InputPart } from '../../src/shared/types';

const limits = { partBytes: 1000, minRows: 100 };
const group = (rows: number, bytes: number) => ({ rows, bytes });
type RowGroupPart = Extract<InputPart, { kind: 'rowGroups' }>;

describe('planRowGroupParts', () => {
  it('cuts whole row groups at the part size and numbers rows across files', () => {
    const parts = planRowGroupParts([[group(300, 400), group(300, 400), group(300, 400)], [group(500, 900), group(200, 300)]], limits) as RowGroupPart[];
    expect(parts.map((p) => [p.firstRow, p.rows])).toEqual([
      [0, 900],
      [900, 700],
    ]);
    expect(parts[0].spans).toEqual([{ file: 0, start: 0, end: 3 }]);
    expect(parts[1].spans).toEqual([{ file: 1, start: 0, end: 2 }]);
  });

  it('merges a tail short of a job minimum into the part before it', () => {
    const parts = planRowGroupParts([[group(5000, 1000), group(5000, 1000), group(50, 10)]], limits) as RowGroupPart[];
    expect(parts.map((p) => p.rows)).toEqual([5000, 5050]);
    expect(parts[1].spans).toEqual([{ file: 0, start: 1, end: 3 }]);
  });

  it('keeps a part open until it has a job minimum of rows, whatever its bytes', () => {
    const parts = planRowGroupParts([[group(60, 5000), group(60, 5000), group(60, 5000)]], limits);
    expect(parts.map((p) => p.rows)).toEqual([180]);
  });

  it('spans files when a file ends short of the minimum', () => {
    const parts = planRowGroupParts([[group(500, 2000)], [group(50, 10)], [group(500, 2000)]], limits) as RowGroupPart[];
    expect(parts.map((p) => p.rows)).toEqual([500, 550]);
    expect(parts[1].spans).toEqual([
      { file: 1, start: 0, end: 1 },
      { file: 2, start: 0, end: 1 },
    ]);
  });

  it('plans only the first maxRows rows, cutting the last part short', () => {
    const parts = planRowGroupParts([[group(300, 1000), group(300, 1000), group(300, 1000)]], { ...limits, maxRows: 450 });
    expect(parts.map((p) => [p.firstRow, p.rows])).toEqual([
      [0, 300],
      [300, 150],
    ]);
  });

  it('skips empty row groups and files, and plans nothing for no rows', () => {
    expect(planRowGroupParts([[group(0, 0)], []], limits)).toEqual([]);
    const parts = planRowGroupParts([[group(0, 0), group(200, 10)]], limits) as RowGroupPart[];
    expect(parts[0].spans).toEqual([{ file: 0, start: 1, end: 2 }]);
  });

  it(`never plans more than ${MAX_PARTS} parts`, () => {
    const groups = Array.from({ length: 3000 }, () => group(1000, 1000));
    const parts = planRowGroupParts([groups], limits);
    expect(parts.length).toBeLessThanOrEqual(MAX_PARTS);
    expect(parts.reduce((n, p) => n + (p.rows ?? 0), 0)).toBe(3_000_000);
  });
});

describe('planCsvParts', () => {
  const ranges = [
    { startByte: 10, endByte: 600, firstRow: 0, rows: 400, firstLine: 2 },
    { startByte: 600, endByte: 1700, firstRow: 400, rows: 700, firstLine: 402 },
    { startByte: 1700, endByte: 1800, firstRow: 1100, rows: 40, firstLine: 1102 },
  ];

  it('joins consecutive ranges up to the part size and merges a short tail', () => {
    const parts = planCsvParts(ranges, limits);
    expect(parts).toEqual([{ index: 0, kind: 'csvRange', firstRow: 0, rows: 1140, startByte: 10, endByte: 1800, firstLine: 2 }]);
    const small = planCsvParts(ranges, { ...limits, partBytes: 500 });
    expect(small.map((p) => (p.kind === 'csvRange' ? [p.startByte, p.endByte, p.firstRow, p.rows, p.firstLine] : []))).toEqual([
      [10, 600, 0, 400, 2],
      [600, 1800, 400, 740, 402],
    ]);
  });

  it('marks the part that maxRows cuts short', () => {
    const parts = planCsvParts(ranges, { ...limits, partBytes: 500, maxRows: 600 });
    expect(parts).toEqual([
      { index: 0, kind: 'csvRange', firstRow: 0, rows: 400, startByte: 10, endByte: 600, firstLine: 2 },
      { index: 1, kind: 'csvRange', firstRow: 400, rows: 200, startByte: 600, endByte: 1700, firstLine: 402, truncated: true },
    ]);
  });
});
