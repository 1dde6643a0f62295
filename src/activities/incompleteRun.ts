import { writeObject } from '../io/s3';
import { cleanupCommand, incompleteListingUri, runEntryOf } from '../shared/paths';
import type { ActivityDeps } from './deps';
import { progressHeartbeat } from './heartbeat';
import { EntryTally, listRunObjects } from './runObjects';

export interface IncompleteRunRequest {
  runUri: string;
  workflowId: string;
  runId: string;
  ended: 'failed' | 'cancelled';
  /** The error's message (the root cause). */
  reason: string;
}

/** What `<runUri>/_incomplete.json` holds. */
export interface IncompleteRunListing {
  workflowId: string;
  runId: string;
  ended: IncompleteRunRequest['ended'];
  reason: string;
  runUri: string;
  listedAt: string;
  objects: number;
  bytes: number;
  /** Counts and bytes per top-level entry: `bedrock-input/`, `input-snapshot/`, `prepare/`, `bedrock-output/`, `output/`, files. */
  prefixes: Record<string, EntryTally>;
  /** Lists what it would delete; add `--yes` to delete. */
  cleanup: string;
}

/**
 * A failed or cancelled run's last word on its files: lists what it wrote under its run URI and
 * writes that, the reason and the cleanup command to `_incomplete.json`, so nothing it leaves
 * behind is unexplained (a corrected input has another ETag, hence another run key, and never
 * reuses these files).
 */
export function makeRecordIncompleteRun(deps: Pick<ActivityDeps, 's3'>) {
  return async function recordIncompleteRun(request: IncompleteRunRequest): Promise<{ listingUri: string; objects: number; bytes: number }> {
    const listingUri = incompleteListingUri(request.runUri);
    // An earlier failed run under the same key may have left one: it is rewritten, not counted.
    const ownEntry = runEntryOf(request.runUri, listingUri);
    const beat = progressHeartbeat();
    const listing = await listRunObjects(deps.s3, request.runUri, {
      include: (entry) => entry !== ownEntry,
      onProgress: (l) => beat({ objects: l.objects }),
    });
    const body: IncompleteRunListing = {
      workflowId: request.workflowId,
      runId: request.runId,
      ended: request.ended,
      reason: request.reason,
      runUri: request.runUri,
      listedAt: new Date().toISOString(),
      objects: listing.objects,
      bytes: listing.bytes,
      prefixes: listing.entries,
      cleanup: cleanupCommand(request.workflowId),
    };
    await writeObject(deps.s3, listingUri, `${JSON.stringify(body, null, 2)}\n`, 'application/json');
    return { listingUri, objects: listing.objects, bytes: listing.bytes };
  };
}
