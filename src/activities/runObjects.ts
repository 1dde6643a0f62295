import { DeleteObjectsCommand, S3Client } from '@aws-sdk/client-s3';
import { listObjects, parseS3Uri } from '../io/s3';
import { runEntryOf } from '../shared/paths';

/** S3 takes at most 1,000 keys per DeleteObjects request. */
const DELETE_BATCH = 1000;

export interface EntryTally {
  objects: number;
  bytes: number;
}

/** A run's objects counted per top-level entry (`bedrock-input/`, `output/`, `shards.json`, …). */
export interface RunObjectListing {
  runUri: string;
  /** In listing order, which is key order. */
  entries: Record<string, EntryTally>;
  objects: number;
  bytes: number;
}

type ListedObject = { uri: string; size: number };

/**
 * Counts objects per top-level entry as they stream by: memory grows with the number of entries
 * (a handful), never with the number of objects. `include` picks entries; `onProgress` gets the
 * listing every 1,000 objects (activities heartbeat there).
 */
export async function tallyRunObjects(
  runUri: string,
  objects: AsyncIterable<ListedObject> | Iterable<ListedObject>,
  opts: { include?: (entry: string) => boolean; onProgress?: (listing: RunObjectListing) => void } = {},
): Promise<RunObjectListing> {
  const listing: RunObjectListing = { runUri, entries: {}, objects: 0, bytes: 0 };
  for await (const obj of objects) {
    const entry = runEntryOf(runUri, obj.uri);
    if (entry === undefined || (opts.include && !opts.include(entry))) continue;
    listing.entries[entry] ??= { objects: 0, bytes: 0 };
    const tally = listing.entries[entry];
    tally.objects += 1;
    tally.bytes += obj.size;
    listing.objects += 1;
    listing.bytes += obj.size;
    if (listing.objects % 1000 === 0) opts.onProgress?.(listing);
  }
  return listing;
}

/** The run's objects, listed from S3 one page at a time (the trailing slash keeps sibling run keys out). */
function runObjects(s3: S3Client, runUri: string): AsyncIterable<ListedObject> {
  return listObjects(s3, `${runUri.replace(/\/+$/, '')}/`);
}

export function listRunObjects(
  s3: S3Client,
  runUri: string,
  opts: Parameters<typeof tallyRunObjects>[2] = {},
): Promise<RunObjectListing> {
  return tallyRunObjects(runUri, runObjects(s3, runUri), opts);
}

/**
 * Deletes the run's objects in the entries `remove` picks, in batches of at most 1,000 keys as the
 * listing streams (deleting keys already listed does not disturb the continuation token, which
 * points past them). Returns what was deleted; fails naming the first keys S3 refused.
 */
export async function deleteRunObjects(s3: S3Client, runUri: string, remove: (entry: string) => boolean): Promise<RunObjectListing> {
  const { bucket } = parseS3Uri(runUri);
  let batch: string[] = [];
  const flush = async () => {
    if (!batch.length) return;
    const keys = batch;
    batch = [];
    const res = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }),
    );
    if (res.Errors?.length) {
      const first = res.Errors.slice(0, 3).map((e) => `${e.Key}: ${e.Code ?? ''} ${e.Message ?? ''}`.trim());
      throw new Error(`S3 refused to delete ${res.Errors.length} of ${keys.length} objects under ${runUri}: ${first.join('; ')}`);
    }
  };
  async function* deletingAsListed(): AsyncIterable<ListedObject> {
    for await (const obj of runObjects(s3, runUri)) {
      const entry = runEntryOf(runUri, obj.uri);
      if (entry === undefined || !remove(entry)) continue;
      batch.push(parseS3Uri(obj.uri).key);
      yield obj;
      if (batch.length >= DELETE_BATCH) await flush();
    }
    await flush();
  }
  return tallyRunObjects(runUri, deletingAsListed());
}
