import { progressPrinter } from '../../scripts/demo/output';
import { BatchRunProgress, emptyTotals } from '../../src/shared/types';

const at = (extra: Partial<BatchRunProgress>): BatchRunProgress => ({ phase: 'resolving', shardsStarted: 0, shardsRunning: 0, totals: emptyTotals(), ...extra });

test('each change is one line; an unchanged poll prints nothing', () => {
  const print = progressPrinter();
  expect(print(at({}))).toEqual(['resolving: checking the input, the model and the template']);
  expect(print(at({}))).toEqual([]);
  expect(print(at({ phase: 'preparing' }))).toEqual(['preparing: counting rows, planning shards and parts']);
  expect(print(at({ phase: 'preparing', partsTotal: 2, partsDone: 1 }))).toEqual(['preparing: parts 1/2 written']);
});

test('phases passed between two polls still get their line, with the counts the progress keeps', () => {
  const print = progressPrinter();
  const running = at({ phase: 'running', partsTotal: 1, partsDone: 1, rowCount: 300, shardCount: 3, shardsRunning: 2 });
  expect(print(running)).toEqual([
    'resolving: input, model and template checked',
    'preparing: 1 part(s) written, 300 rows into 3 shards',
    'running: shards 0/3 done, 2 running, rows 0/300',
  ]);
});
