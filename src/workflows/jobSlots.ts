import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { type SlotHolder, type SlotLedger, grantFree, removeHolder, requestSlot, waitingAhead } from '../core/jobSlotLedger';
import {
  type JobSlotsInput,
  MAX_SLOT_LIMIT,
  type SlotsView,
  releaseSlotSignal,
  requestSlotUpdate,
  setLimitUpdate,
  slotGrantedSignal,
  slotsQuery,
} from '../shared/jobSlots';

// Describing a few workflows takes well under a second; retried quickly, since a slot may be leaking meanwhile.
const { closedSlotHolders } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 5 },
});

/**
 * One concurrency budget per (account, Region, model), shared by every run: shard workflows ask
 * for a slot before submitting a Bedrock job and give it back when the job has ended. Grants are
 * fair across runs (see nextWaiter). A holder that closed without giving its slot back (terminated,
 * timed out) is found by checking the holders' workflows every `checkSeconds`. Lives for good,
 * continuing as new when the server suggests it, with the ledger carried over.
 */
export async function jobSlots(input: JobSlotsInput): Promise<void> {
  if (!(input.checkSeconds > 0)) throw ApplicationFailure.nonRetryable(`checkSeconds must be positive, not ${input.checkSeconds}`);
  const ledger: SlotLedger = input.carried ?? { limit: input.limit, holders: [], waiters: [] };
  const sending = new Set<Promise<void>>();
  const view = (): SlotsView => ({ ...ledger, account: input.account, region: input.region, modelId: input.modelId, checkSeconds: input.checkSeconds });

  const tell = (holder: SlotHolder): void => {
    const sent = getExternalWorkflowHandle(holder.workflowId, holder.runId)
      .signal(slotGrantedSignal, { ticket: holder.ticket })
      .catch((err: unknown) => {
        // The holder closed while it waited: the slot goes to the next one.
        log.info('granted slot not delivered; taken back', { workflowId: holder.workflowId, error: String(err) });
        removeHolder(ledger, holder);
        grant();
      })
      .finally(() => sending.delete(sent));
    sending.add(sent);
  };
  const grant = (): void => {
    for (const holder of grantFree(ledger, Date.now())) tell(holder);
  };

  setHandler(
    requestSlotUpdate,
    (req) => {
      requestSlot(ledger, { ...req, since: Date.now() });
      grant();
      const granted = ledger.holders.some((h) => h.workflowId === req.workflowId && h.runId === req.runId);
      // Five holder checks: long enough that a healthy queue is never asked twice for nothing.
      return { granted, ahead: granted ? 0 : waitingAhead(ledger, req), recheckSeconds: Math.max(10, input.checkSeconds * 5) };
    },
    {
      validator: (req) => {
        if (!req?.workflowId || !req.runId || !req.group || !(req.ticket > 0)) throw new Error('requestSlot needs workflowId, runId, group and a positive ticket');
      },
    },
  );
  setHandler(releaseSlotSignal, (rel) => {
    // Only the request it answers: a release that crossed a newer request of the same holder is stale.
    const entry = [...ledger.holders, ...ledger.waiters].find((h) => h.workflowId === rel.workflowId && h.runId === rel.runId);
    if (entry && entry.ticket <= rel.ticket) removeHolder(ledger, rel);
    grant();
  });
  setHandler(
    setLimitUpdate,
    (limit) => {
      ledger.limit = limit;
      grant();
      return view();
    },
    {
      validator: (limit) => {
        if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SLOT_LIMIT) throw new Error(`the limit must be a whole number from 1 to ${MAX_SLOT_LIMIT}, not ${limit}`);
      },
    },
  );
  setHandler(slotsQuery, view);

  grant();
  const canSuggested = () => workflowInfo().continueAsNewSuggested;
  for (;;) {
    // Idle (no holders) costs no history: nothing to check until someone holds a slot.
    if (ledger.holders.length === 0) await condition(() => ledger.holders.length > 0 || canSuggested());
    else await condition(canSuggested, `${input.checkSeconds} seconds`);
    if (canSuggested()) break;
    if (ledger.holders.length === 0) continue;
    const holders = ledger.holders.map(({ workflowId, runId }) => ({ workflowId, runId }));
    // A check that keeps failing (Temporal unreachable, access denied) is skipped, not retried for good: the next round tries again.
    // try/await, not .catch(): the same promise hops as a plain await, so recorded histories replay.
    let closed: Array<{ workflowId: string; runId: string }> = [];
    try {
      ({ closed } = await closedSlotHolders({ holders }));
    } catch (err) {
      log.warn('holder check failed; trying again at the next round', { error: String(err) });
    }
    for (const h of closed) {
      if (removeHolder(ledger, h)) log.warn('slot of a closed holder taken back', { workflowId: h.workflowId, runId: h.runId });
    }
    grant();
  }
  await condition(() => sending.size === 0 && allHandlersFinished());
  await continueAsNew<typeof jobSlots>({ ...input, carried: ledger });
}
