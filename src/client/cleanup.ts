import type { S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import { RunObjectListing, deleteRunObjects, listRunObjects } from '../activities/runObjects';
import { BATCH_RUN_WORKFLOW } from '../shared/types';
import { cleanupPlan } from './cleanupPlan';
import { runUriFromHistory } from './runLocation';
import { otherRunsWritingUnder } from './sharedRunKey';

export interface CleanupOptions {
  /** False: only list what would be deleted. */
  delete: boolean;
  /** Also a completed run's output/ and summary.json. */
  all: boolean;
}

const count = (n: number) => n.toLocaleString('en-US');
const objectsCount = (n: number) => `${count(n)} object${n === 1 ? '' : 's'}`;

function listingLines(listing: RunObjectListing, remove: (entry: string) => boolean): string[] {
  const width = Math.max(...Object.keys(listing.entries).map((e) => e.length));
  return Object.entries(listing.entries).map(
    ([entry, t]) => `  ${entry.padEnd(width)}  ${objectsCount(t.objects).padStart(14)}  ${count(t.bytes).padStart(15)} bytes  ${remove(entry) ? 'delete' : 'keep'}`,
  );
}

/**
 * `cleanup <workflowId>`: finds where the run wrote (from its history), refuses while it or a rerun
 * of the same input is running, lists its objects per top-level prefix, and with `delete` removes
 * those the plan picks (staging always; a failed or cancelled run's partial output too).
 */
export async function cleanupRun(client: Client, s3: S3Client, workflowId: string, opts: CleanupOptions, out: (line: string) => void): Promise<void> {
  const description = await client.workflow.getHandle(workflowId).describe();
  const status = description.status.name;
  if (description.type !== BATCH_RUN_WORKFLOW) {
    throw new Error(`${workflowId} is a ${description.type} workflow; clean up the ${BATCH_RUN_WORKFLOW} it belongs to`);
  }
  if (status === 'RUNNING') {
    throw new Error(`${workflowId} is still running; cancel it first (npm run cli -- cancel ${workflowId}) or wait for it to end`);
  }
  const runUri = await runUriFromHistory(client, workflowId);
  if (!runUri) {
    out(`${workflowId} (${status}) ended before it resolved its run: it wrote nothing, there is nothing to clean up`);
    return;
  }
  const runKey = runUri.replace(/\/+$/, '').split('/').pop()!;
  const others = await otherRunsWritingUnder(client, workflowId, runKey);
  if (others.length) {
    throw new Error(`not cleaning up ${runUri}/: running run(s) of the same input write there: ${others.join(', ')}`);
  }

  const listing = await listRunObjects(s3, runUri);
  out(`${workflowId} (${status}): ${runUri}/`);
  if (!listing.objects) {
    out('  nothing there: nothing to clean up');
    return;
  }
  const plan = cleanupPlan({ status, hasSummary: 'summary.json' in listing.entries, all: opts.all });
  for (const line of listingLines(listing, plan.remove)) out(line);
  out(`  ${plan.why}`);
  const doomed = Object.entries(listing.entries).filter(([entry]) => plan.remove(entry));
  const objects = doomed.reduce((n, [, t]) => n + t.objects, 0);
  const bytes = doomed.reduce((n, [, t]) => n + t.bytes, 0);
  if (!objects) {
    out('nothing to delete');
  } else if (!opts.delete) {
    out(`dry run: would delete ${objectsCount(objects)} (${count(bytes)} bytes); pass --yes to delete them`);
  } else {
    const deleted = await deleteRunObjects(s3, runUri, plan.remove);
    out(`deleted ${objectsCount(deleted.objects)} (${count(deleted.bytes)} bytes)`);
  }
}
