import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PassThrough } from 'node:stream';
import { requireKey } from './s3Uri';

export interface ObjectWriter {
  /** Resolves once the data is buffered within bounds; await it before writing more. */
  write(chunk: string | Uint8Array): Promise<void>;
  close(): Promise<{ bytes: number }>;
  abort(): Promise<void>;
}

export interface ObjectWriterOptions {
  /** Multipart part size; S3 minimum is 5 MiB. Default 8 MiB (10,000 parts ⇒ ~78 GiB per object). */
  partSize?: number;
  /** Parts uploaded concurrently. Default 2. */
  queueSize?: number;
  contentType?: string;
}

const MiB = 1024 * 1024;
/**
 * For writers that run many at once (a preprocessing thread keeps a shard's JSONL and snapshot open;
 * a worker runs a thread per core): S3's smallest part and one upload in flight, ~10 MiB buffered
 * per writer instead of ~24 MiB. Objects up to ~48 GiB. Prep-parquet with two threads peaked at
 * 1,009 MB with these, 1,060 MB without (2026-12-02).
 */
export const LEAN_UPLOAD: Pick<ObjectWriterOptions, 'partSize' | 'queueSize'> = { partSize: 5 * MiB, queueSize: 1 };

/** Small writes are copied into a buffer of this size so per-line writes cost no stream overhead. */
export const COALESCE_BYTES = MiB;

/**
 * Streaming upload of unknown length through lib-storage. Memory ≈ partSize × (queueSize + 1)
 * plus one coalescing buffer. Objects under one part become a single PutObject.
 *
 * Chunks of at least COALESCE_BYTES are handed to the stream without copying; do not mutate them
 * after write().
 */
export function createObjectWriter(s3: S3Client, uri: string, opts: ObjectWriterOptions = {}): ObjectWriter {
  const { bucket, key } = requireKey(uri);
  const pipe = new PassThrough({ highWaterMark: COALESCE_BYTES });
  const upload = new Upload({
    client: s3,
    params: { Bucket: bucket, Key: key, Body: pipe, ...(opts.contentType ? { ContentType: opts.contentType } : {}) },
    partSize: opts.partSize ?? 8 * MiB,
    queueSize: opts.queueSize ?? 2,
    leavePartsOnError: false,
  });

  let failure: unknown;
  const done = upload.done().then(
    () => undefined,
    (err) => {
      failure ??= err;
      pipe.destroy();
      throw err;
    },
  );
  // Observed through `failure`/close(); without this an early failure is an unhandled rejection.
  done.catch(() => undefined);

  let buf = Buffer.allocUnsafe(COALESCE_BYTES);
  let used = 0;
  let bytes = 0;
  let state: 'open' | 'closed' | 'aborted' = 'open';

  const check = () => {
    if (failure) throw new Error(`upload to ${uri} failed: ${String((failure as Error)?.message ?? failure)}`, { cause: failure });
    if (state !== 'open') throw new Error(`object writer for ${uri} is ${state}`);
  };

  const push = async (chunk: Buffer): Promise<void> => {
    if (chunk.byteLength === 0) return;
    if (pipe.write(chunk)) return;
    // Resolve on drain, or when the upload dies (the PassThrough is then destroyed and never drains).
    await new Promise<void>((resolve) => {
      const finish = () => {
        pipe.off('drain', finish);
        pipe.off('close', finish);
        resolve();
      };
      pipe.on('drain', finish);
      pipe.on('close', finish);
    });
    check();
  };

  const flush = async (): Promise<void> => {
    if (used === 0) return;
    const out = buf.subarray(0, used);
    buf = Buffer.allocUnsafe(COALESCE_BYTES);
    used = 0;
    await push(out);
  };

  return {
    async write(chunk) {
      check();
      if (typeof chunk === 'string') {
        // UTF-16 code units encode to at most 3 bytes each.
        if (chunk.length * 3 > COALESCE_BYTES - used && Buffer.byteLength(chunk, 'utf8') > COALESCE_BYTES - used) {
          await flush();
          if (chunk.length * 3 > COALESCE_BYTES) {
            const encoded = Buffer.from(chunk, 'utf8');
            bytes += encoded.byteLength;
            return push(encoded);
          }
        }
        const n = buf.write(chunk, used, 'utf8');
        used += n;
        bytes += n;
        return;
      }
      if (chunk.byteLength > COALESCE_BYTES - used) {
        await flush();
        if (chunk.byteLength >= COALESCE_BYTES) {
          bytes += chunk.byteLength;
          return push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        }
      }
      buf.set(chunk, used);
      used += chunk.byteLength;
      bytes += chunk.byteLength;
    },

    async close() {
      check();
      await flush();
      state = 'closed';
      pipe.end();
      try {
        await done;
      } catch (err) {
        throw new Error(`upload to ${uri} failed: ${String((err as Error)?.message ?? err)}`, { cause: err });
      }
      return { bytes };
    },

    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      try {
        await upload.abort();
      } catch {
        // Already finished or never started: nothing left to clean up.
      }
      pipe.destroy();
      await done.catch(() => undefined);
    },
  };
}
