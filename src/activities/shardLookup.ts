import type { S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { headObject, readObjectText } from '../io/s3';
import { runFiles } from '../shared/paths';
import type { ResolvedRun } from '../shared/types';

export interface ShardInputFiles {
  jsonl: string;
  snapshot: string;
  /** Rows of the shard, and those of them kept out of its JSONL (RECORD_TOO_LARGE, reasons in `skipped`). */
  records?: number;
  rejected?: number;
  skipped?: string;
}

interface CachedManifest {
  eTag: string;
  shards: ShardInputFiles[];
}

const MAX_CACHED = 16;
const cache = new Map<string, CachedManifest>();

/**
 * A shard's input files, from the shard manifest that preprocessing wrote (parts name their own
 * shards, so the run-wide index maps to files only through it). The manifest is read once per
 * version: a HEAD checks it has not been rewritten since.
 */
export async function shardInputFiles(s3: S3Client, run: Pick<ResolvedRun, 'runUri'>, shardIndex: number): Promise<ShardInputFiles> {
  const uri = runFiles(run.runUri).shardManifest;
  const head = await headObject(s3, uri);
  // The run wrote it before any shard started: gone means the bucket or prefix was removed, which no retry repairs.
  if (!head) throw ApplicationFailure.create({ message: `shard manifest not found: ${uri} (was the run's output removed?)`, type: 'RunStorageLost', nonRetryable: true });
  let cached = cache.get(uri);
  if (cached?.eTag !== head.eTag) {
    type Entry = { jsonlUri: string; snapshotUri: string; records?: number; rejected?: number; skippedUri?: string };
    const manifest = JSON.parse(await readObjectText(s3, uri)) as { shards: Entry[] };
    cached = {
      eTag: head.eTag,
      shards: manifest.shards.map((s) => ({ jsonl: s.jsonlUri, snapshot: s.snapshotUri, records: s.records, rejected: s.rejected, skipped: s.skippedUri })),
    };
    cache.delete(uri);
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
    cache.set(uri, cached);
  }
  const files = cached.shards[shardIndex];
  if (!files) throw new Error(`${uri} lists ${cached.shards.length} shards; there is no shard ${shardIndex}`);
  return files;
}
