import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

export interface S3Options {
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export function makeS3Client(opts: S3Options, defaultRegion: string): S3Client {
  return new S3Client({
    region: opts.region ?? defaultRegion,
    credentials: opts.credentials,
    ...(opts.endpoint
      ? {
          endpoint: opts.endpoint,
          // Path-style and no default checksums: what moto/localstack-style S3 servers accept.
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  });
}

export interface S3Location {
  bucket: string;
  key: string;
}

export function parseS3Uri(uri: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new Error(`not an s3 uri: ${uri}`);
  return { bucket: m[1], key: m[2] };
}

export function errorName(err: unknown): string {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.$metadata?.httpStatusCode === 404 && (e.name === 'NotFound' || e.name === 'Unknown')) return 'NotFound';
  return e?.name ?? e?.Code ?? 'Error';
}

/** null when the object does not exist; other S3 errors propagate. */
export async function headObjectSize(s3: S3Client, loc: S3Location): Promise<number | null> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
    return head.ContentLength ?? 0;
  } catch (err) {
    const name = errorName(err);
    if (name === 'NotFound' || name === 'NoSuchKey') return null;
    throw err;
  }
}

export async function bucketExists(s3: S3Client, bucket: string): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (err) {
    const name = errorName(err);
    if (name === 'NotFound' || name === 'NoSuchBucket') return false;
    throw err;
  }
}

export async function* listObjects(s3: S3Client, bucket: string, prefix: string): AsyncGenerator<{ key: string; size: number }> {
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key) yield { key: o.Key, size: o.Size ?? 0 };
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** Streams an object's lines; breaking out of the loop closes the download. */
export async function* readLines(s3: S3Client, loc: S3Location): AsyncGenerator<string> {
  const res = await s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
  const body = res.Body as Readable;
  const rl = createInterface({ input: body, crlfDelay: Infinity });
  try {
    for await (const line of rl) yield line;
  } finally {
    rl.close();
    body.destroy();
  }
}

/** Streams lines into an object (multipart once it passes 5 MB), so a large output is never one string. */
export async function writeLines(s3: S3Client, loc: S3Location, lines: Iterable<string>): Promise<void> {
  const body = Readable.from(
    (function* () {
      // Lines are batched into ~64 KB buffers; one chunk per line would make the uploader's copying dominate.
      let batch: string[] = [];
      let size = 0;
      for (const line of lines) {
        batch.push(line, '\n');
        size += line.length + 1;
        if (size >= 65_536) {
          yield Buffer.from(batch.join(''));
          batch = [];
          size = 0;
        }
      }
      if (batch.length) yield Buffer.from(batch.join(''));
    })(),
  );
  await new Upload({ client: s3, params: { Bucket: loc.bucket, Key: loc.key, Body: body, ContentType: 'application/octet-stream' } }).done();
}

export async function putText(s3: S3Client, loc: S3Location, text: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: loc.bucket, Key: loc.key, Body: text, ContentType: 'application/octet-stream' }));
}
