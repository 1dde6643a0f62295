/**
 * The job-slot ledger of one (account, Region, model): who holds a slot, who waits, and who is
 * granted next. Pure data and functions, so the quota workflow stays a thin shell around it and
 * the ledger can travel through continue-as-new as it is.
 */

/** A shard workflow run asking for (or holding) one job slot. `group` is its batch run's workflow id. */
export interface SlotHolder {
  workflowId: string;
  runId: string;
  group: string;
  /** Per holder, increasing: a grant names the request it answers, so a late grant is never mistaken for a new one. */
  ticket: number;
  shardIndex?: number;
  /** Workflow time (ms) of the request, or of the grant once held. */
  since: number;
}

export interface SlotLedger {
  limit: number;
  holders: SlotHolder[];
  waiters: SlotHolder[];
}

export interface SlotAnswer {
  granted: boolean;
  /** Waiters that would be granted before this one, as things stand. */
  ahead: number;
  /** Seconds a waiter waits for its grant before asking again (a quota workflow terminated by hand loses its queue). */
  recheckSeconds?: number;
}

const same = (a: Pick<SlotHolder, 'workflowId' | 'runId'>, b: Pick<SlotHolder, 'workflowId' | 'runId'>) => a.workflowId === b.workflowId && a.runId === b.runId;

/**
 * Queues a request, idempotently: a retried request (same holder, same ticket) changes nothing. A
 * newer ticket from a holder replaces its older entry (the holder moved on without releasing).
 */
export function requestSlot(ledger: SlotLedger, req: SlotHolder): SlotAnswer {
  const held = ledger.holders.find((h) => same(h, req));
  if (held && held.ticket >= req.ticket) return { granted: true, ahead: 0 };
  const waiting = ledger.waiters.find((w) => same(w, req));
  if (waiting && waiting.ticket >= req.ticket) return { granted: false, ahead: waitingAhead(ledger, req) };
  removeHolder(ledger, req);
  ledger.waiters.push({ ...req });
  return { granted: false, ahead: waitingAhead(ledger, req) };
}

/** Removes the holder's slot or its place in the queue; true when there was one. */
export function removeHolder(ledger: SlotLedger, who: Pick<SlotHolder, 'workflowId' | 'runId'>): boolean {
  const before = ledger.holders.length + ledger.waiters.length;
  ledger.holders = ledger.holders.filter((h) => !same(h, who));
  ledger.waiters = ledger.waiters.filter((w) => !same(w, who));
  return ledger.holders.length + ledger.waiters.length < before;
}

/**
 * The waiter to grant next: from the run (group) holding the fewest slots, ties going to the run
 * whose oldest waiter has waited longest; within a run, first come first served. A run with 1,000
 * shards therefore cannot starve a run with 4, and no rotation pointer needs carrying.
 */
export function nextWaiter(holders: SlotHolder[], waiters: SlotHolder[]): SlotHolder | undefined {
  const held = new Map<string, number>();
  for (const h of holders) held.set(h.group, (held.get(h.group) ?? 0) + 1);
  let best: SlotHolder | undefined;
  for (const w of waiters) {
    // Waiters are in arrival order, so the first of each group is its oldest.
    if (!best) best = w;
    else if ((held.get(w.group) ?? 0) < (held.get(best.group) ?? 0)) best = w;
  }
  return best;
}

/** Moves waiters into free slots, fairly; returns the new holders (to be told). */
export function grantFree(ledger: SlotLedger, now: number): SlotHolder[] {
  const granted: SlotHolder[] = [];
  while (ledger.holders.length < ledger.limit) {
    const next = nextWaiter(ledger.holders, ledger.waiters);
    if (!next) break;
    ledger.waiters = ledger.waiters.filter((w) => w !== next);
    const holder = { ...next, since: now };
    ledger.holders.push(holder);
    granted.push(holder);
  }
  return granted;
}

/** How many waiters would be granted before `who` if slots freed one at a time. */
export function waitingAhead(ledger: SlotLedger, who: Pick<SlotHolder, 'workflowId' | 'runId'>): number {
  const holders = [...ledger.holders];
  let waiters = [...ledger.waiters];
  for (let ahead = 0; waiters.length > 0; ahead++) {
    const next = nextWaiter(holders, waiters)!;
    if (same(next, who)) return ahead;
    waiters = waiters.filter((w) => w !== next);
    holders.push(next);
  }
  return 0;
}
