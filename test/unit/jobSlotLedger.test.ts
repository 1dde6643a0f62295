import { type SlotHolder, type SlotLedger, grantFree, removeHolder, requestSlot, waitingAhead } from '../../src/core/jobSlotLedger';
import { accountOfRole, jobSlotsWorkflowId, slotLimitFor } from '../../src/shared/jobSlots';

const ask = (group: string, n: number, ticket = 1): SlotHolder => ({ workflowId: `${group}/shard-${n}`, runId: `r-${group}-${n}`, group, ticket, since: 0 });

function ledgerWith(limit: number, ...requests: SlotHolder[]): SlotLedger {
  const ledger: SlotLedger = { limit, holders: [], waiters: [] };
  for (const r of requests) requestSlot(ledger, r);
  return ledger;
}

test('grants up to the limit, never more', () => {
  const ledger = ledgerWith(2, ask('a', 0), ask('a', 1), ask('a', 2));
  expect(grantFree(ledger, 1).map((h) => h.workflowId)).toEqual(['a/shard-0', 'a/shard-1']);
  expect(grantFree(ledger, 2)).toEqual([]);
  expect(ledger.waiters.map((w) => w.workflowId)).toEqual(['a/shard-2']);
});

test('a huge run does not starve a small one: the run holding fewer slots goes first, FIFO within a run', () => {
  const big = Array.from({ length: 10 }, (_, i) => ask('big', i));
  const ledger = ledgerWith(2, ...big, ask('small', 0), ask('small', 1));
  expect(grantFree(ledger, 1).map((h) => h.group)).toEqual(['big', 'small']);
  removeHolder(ledger, ask('big', 0));
  // big holds 0 now, small 1: big's next (shard-1, FIFO) goes before small's second
  expect(grantFree(ledger, 2).map((h) => h.workflowId)).toEqual(['big/shard-1']);
  removeHolder(ledger, ask('small', 0));
  expect(grantFree(ledger, 3).map((h) => h.workflowId)).toEqual(['small/shard-1']);
});

test('requests are idempotent per ticket; a newer ticket replaces the holder and a stale one changes nothing', () => {
  const ledger = ledgerWith(1, ask('a', 0));
  grantFree(ledger, 1);
  expect(requestSlot(ledger, ask('a', 0))).toEqual({ granted: true, ahead: 0 });
  expect(ledger.holders).toHaveLength(1);
  expect(requestSlot(ledger, ask('a', 0, 2))).toEqual({ granted: false, ahead: 0 });
  expect(ledger.holders).toHaveLength(0);
  expect(ledger.waiters.map((w) => w.ticket)).toEqual([2]);
  expect(requestSlot(ledger, ask('a', 0, 1)).granted).toBe(false);
  expect(ledger.waiters.map((w) => w.ticket)).toEqual([2]);
});

test('waitingAhead counts the waiters granted first, across runs', () => {
  const ledger = ledgerWith(1, ask('a', 0), ask('a', 1), ask('a', 2), ask('b', 0));
  grantFree(ledger, 1); // a/shard-0 holds
  expect(waitingAhead(ledger, ask('b', 0))).toBe(0);
  expect(waitingAhead(ledger, ask('a', 1))).toBe(1);
  expect(waitingAhead(ledger, ask('a', 2))).toBe(2);
});

test('one quota workflow id per account, Region and model; the limit from config, per model first', () => {
  expect(jobSlotsWorkflowId(accountOfRole('arn:aws:iam::123456789012:role/R'), 'us-east-1', 'm')).toBe('job-slots/123456789012/us-east-1/m');
  expect(accountOfRole('arn:aws:iam:::role/R')).toBe('default');
  expect(slotLimitFor({ jobSlotsPerModel: 5, jobSlotsByModel: { m: 3 } }, 'm')).toBe(3);
  expect(slotLimitFor({ jobSlotsPerModel: 5 }, 'other')).toBe(5);
  expect(slotLimitFor({}, 'other')).toBe(20);
});
