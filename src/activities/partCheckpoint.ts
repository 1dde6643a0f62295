import type { S3Client } from '@aws-sdk/client-s3';
import { isNotFound, readObjectText, writeObject } from '../io/s3';

/** One shard as a part writes it down: enough to submit it, join it, and price it. */
export interface PartShard {
  /** Rows of the shard (its snapshot and output), rejected ones included. */
  records: number;
  bytes: number;
  inputTokens: number;
  jsonlUri: string;
  snapshotUri: string;
  /** Rows kept out of the JSONL (RECORD_TOO_LARGE), with their reasons in `skippedUri`; absent when none. */
  rejected?: number;
  skippedUri?: string;
}

/**
 * What a part heartbeats: how many of its shards are finished and where their entries are (the
 * part's checkpoint object), so a retry resumes after them. A reference and counts: the same few
 * hundred bytes for 10 shards or 10,000 (the entries themselves, ~270 bytes a shard, would pass
 * Temporal's 2 MB payload limit at ~7,500 shards).
 */
export interface PartProgress {
  /** The checkpoint: a JSON object whose `shards` start with the `shardsDone` finished ones. */
  progressUri: string;
  shardsDone: number;
  rows?: number;
}

/** The heartbeat of workers before the checkpoint: every finished shard's entry inline. A retry may still carry one. */
export interface InlinePartProgress {
  done: PartShard[];
  rows?: number;
}

/** The checkpoint object's content. */
interface PartCheckpointFile {
  part: number;
  shards: PartShard[];
}

/** How often at most a part rewrites its checkpoint (a part of 5,000 shards writes ~1.4 MB each time). */
export const CHECKPOINT_EVERY_MS = 5000;

async function writeCheckpoint(s3: S3Client, uri: string, part: number, shards: PartShard[]): Promise<void> {
  const file: PartCheckpointFile = { part, shards };
  await writeObject(s3, uri, JSON.stringify(file), 'application/json');
}

/**
 * The finished shards a retried part resumes after, from the heartbeat its last attempt left
 * (`details`): the first `shardsDone` entries of the checkpoint it names. A missing checkpoint (or
 * one of another part) means starting the part over, which rewrites the same objects. An inline
 * heartbeat (an older worker's) is taken as it is, and written to `progressUri` first so that this
 * attempt's heartbeats, which only refer to it, keep that progress.
 */
export async function resumedShards(s3: S3Client, progressUri: string, part: number, details: unknown): Promise<PartShard[]> {
  if (!details || typeof details !== 'object') return [];
  const inline = details as Partial<InlinePartProgress>;
  if (Array.isArray(inline.done)) {
    if (inline.done.length > 0) await writeCheckpoint(s3, progressUri, part, inline.done);
    return inline.done;
  }
  const progress = details as Partial<PartProgress>;
  if (!progress.shardsDone || !progress.progressUri) return [];
  let file: PartCheckpointFile;
  try {
    file = JSON.parse(await readObjectText(s3, progress.progressUri)) as PartCheckpointFile;
  } catch (err) {
    if (isNotFound((err as Error).cause)) return [];
    throw err;
  }
  if (file.part !== part || !Array.isArray(file.shards)) return [];
  // Fewer entries than heartbeated only if a lost earlier attempt, still running, rewrote the
  // checkpoint behind this one: its entries are the same shards (a part cuts its rows the same way
  // every time), so they are still a true start of the part.
  return file.shards.slice(0, progress.shardsDone);
}

/**
 * A part's finished shards, checkpointed to one S3 object (rewritten in place: the same key each
 * time, so writes are idempotent) at most every `everyMs`, in the background while the part goes
 * on. Progress is reported only for shards a completed write holds: a heartbeat never refers to
 * entries its checkpoint does not have yet. At most one write is in flight.
 */
export class PartCheckpoint {
  /** Every finished shard of the part, resumed ones first. */
  readonly shards: PartShard[];
  /** How many of `shards` the checkpoint object holds. */
  private written: number;
  private rows?: number;
  private lastWrite = Date.now();
  private writing?: Promise<void>;
  private failure?: unknown;

  /** `resume`: the shards a retry resumes after, already in the checkpoint at `uri`. */
  constructor(
    private readonly s3: S3Client,
    readonly uri: string,
    private readonly part: number,
    resume: PartShard[],
    private readonly report: (progress: PartProgress) => void,
    private readonly everyMs = CHECKPOINT_EVERY_MS,
  ) {
    this.shards = [...resume];
    this.written = resume.length;
  }

  /** The heartbeat for now: the checkpointed shards, and the rows read so far. */
  progress(): PartProgress {
    return { progressUri: this.uri, shardsDone: this.written, ...(this.rows === undefined ? {} : { rows: this.rows }) };
  }

  /** Rows read so far (the part's, resumed ones included). */
  setRows(rows: number): void {
    this.rows = rows;
    this.report(this.progress());
  }

  /**
   * A shard is finished (its files written); checkpoints if the last write is old enough. A failed
   * write (or report) fails the part, as a failed shard file would: it is thrown here, next time.
   */
  add(shard: PartShard): void {
    if (this.failure) throw this.failure;
    this.shards.push(shard);
    if (this.writing || Date.now() - this.lastWrite < this.everyMs) return;
    this.lastWrite = Date.now();
    const count = this.shards.length;
    this.writing = writeCheckpoint(this.s3, this.uri, this.part, this.shards.slice(0, count))
      .then(() => {
        this.written = Math.max(this.written, count);
        this.report(this.progress());
      })
      .catch((err: unknown) => {
        this.failure = err;
      })
      .finally(() => {
        this.writing = undefined;
      });
  }

  /** Waits for a write in flight; throws if a write failed. */
  async settle(): Promise<void> {
    await this.writing;
    if (this.failure) throw this.failure;
  }
}
