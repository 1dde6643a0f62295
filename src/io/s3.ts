import {
  BucketLocationConstraint,
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { BlobLike, rangedBlob } from './blob';
import { createObjectWriter } from './objectWriter';
import { formatS3Uri, joinS3Uri, parseS3Uri, requireKey } from './s3Uri';
import { TransientSourceError, transientSourceError } from './sourceErrors';

export type { BlobLike } from './blob';
export type { ObjectWriter, ObjectWriterOptions } from './objectWriter';
export type { S3Location } from './s3Uri';
export { createObjectWriter, formatS3Uri, joinS3Uri, parseS3Uri };

export interface S3Settings {
  region: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** The only place the I/O layer reads the environment; credentials stay with the SDK's default chain. */
export function s3SettingsFromEnv(env: NodeJS.ProcessEnv = process.env): S3Settings {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  return {
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
  };
}

export function createS3Client(settings: S3Settings): S3Client {
  const config: S3ClientConfig = { region: settings.region };
  if (settings.credentials) config.credentials = settings.credentials;
  if (settings.endpoint) {
    config.endpoint = settings.endpoint;
    config.forcePathStyle = settings.forcePathStyle ?? true;
    // Since SDK 3.729 streaming uploads default to aws-chunked bodies with trailing CRC32;
    // most non-AWS servers reject them or store the framing as object bytes.
    config.requestChecksumCalculation = 'WHEN_REQUIRED';
    config.responseChecksumValidation = 'WHEN_REQUIRED';
  } else if (settings.forcePathStyle !== undefined) {
    config.forcePathStyle = settings.forcePathStyle;
  }
  const client = new S3Client(config);
  unsignedUploadPayloads(client);
  return client;
}

/**
 * Signs uploads with `x-amz-content-sha256: UNSIGNED-PAYLOAD` instead of a SHA-256 of the body, as
 * the AWS CLI and boto3 do for S3: the body's integrity is TLS's (and, on AWS, the CRC32 flexible
 * checksum's) business, while hashing every uploaded byte cost preprocessing ~3 µs a row (the JSONL
 * and snapshot bytes, ~3.5 KB a row). S3 and S3-compatible servers (moto, MinIO) accept it.
 */
function unsignedUploadPayloads(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = (context as { commandName?: string }).commandName;
      const request = args.request as { headers?: Record<string, string> };
      if ((command === 'UploadPartCommand' || command === 'PutObjectCommand') && request.headers) {
        request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      }
      return next(args);
    },
    { step: 'build', name: 'unsignedUploadPayloads' },
  );
}

export function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.Code === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

export async function headObject(s3: S3Client, uri: string): Promise<{ size: number; eTag: string } | undefined> {
  const { bucket, key } = requireKey(uri);
  try {
    const res = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { size: res.ContentLength ?? 0, eTag: res.ETag ?? '' };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw transientSourceError(`HeadObject ${uri}`, err) ?? err;
  }
}

/** The caller must consume or destroy `body`: an abandoned body holds one of the client's sockets. */
export async function openObjectStream(
  s3: S3Client,
  uri: string,
  opts: { range?: { start: number; end: number }; eTag?: string } = {},
): Promise<{ body: Readable; size: number; eTag: string }> {
  const { bucket, key } = requireKey(uri);
  try {
    const res = await s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(opts.range ? { Range: `bytes=${opts.range.start}-${opts.range.end - 1}` } : {}),
        ...(opts.eTag ? { IfMatch: opts.eTag } : {}),
      }),
    );
    if (!(res.Body instanceof Readable)) throw new Error(`GetObject ${uri}: expected a Node.js stream body`);
    return { body: res.Body, size: res.ContentLength ?? 0, eTag: res.ETag ?? '' };
  } catch (err) {
    if (isNotFound(err)) throw new Error(`S3 object not found: ${uri}`, { cause: err });
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412) {
      throw new Error(`${uri} changed since it was opened (ETag mismatch)`, { cause: err });
    }
    throw transientSourceError(`GetObject ${uri}`, err) ?? err;
  }
}

/** Buffers the whole object: manifests, JSON, small JSONL files only. */
export async function readObjectText(s3: S3Client, uri: string): Promise<string> {
  const { bucket, key } = requireKey(uri);
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!res.Body) throw new Error(`GetObject ${uri}: empty response body`);
    return await res.Body.transformToString('utf-8');
  } catch (err) {
    if (isNotFound(err)) throw new Error(`S3 object not found: ${uri}`, { cause: err });
    throw transientSourceError(`GetObject ${uri}`, err) ?? err;
  }
}

export async function writeObject(s3: S3Client, uri: string, body: string | Uint8Array, contentType?: string): Promise<void> {
  const { bucket, key } = requireKey(uri);
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentLength: typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength,
      ...(contentType ? { ContentType: contentType } : {}),
    }),
  );
}

/** `pageSize` maps to MaxKeys; the generator follows continuation tokens either way. */
export async function* listObjects(
  s3: S3Client,
  prefixUri: string,
  opts: { pageSize?: number } = {},
): AsyncGenerator<{ uri: string; key: string; size: number }> {
  const { bucket, key: prefix } = parseS3Uri(prefixUri);
  let token: string | undefined;
  do {
    const res = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix || undefined,
        ContinuationToken: token,
        ...(opts.pageSize ? { MaxKeys: opts.pageSize } : {}),
      }),
    );
    for (const obj of res.Contents ?? []) {
      if (obj.Key === undefined) continue;
      yield { uri: formatS3Uri({ bucket, key: obj.Key }), key: obj.Key, size: obj.Size ?? 0 };
    }
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
}

export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const region = await s3.config.region();
  try {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        // us-east-1 rejects an explicit LocationConstraint; every other region requires one.
        ...(region && region !== 'us-east-1' ? { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } } : {}),
      }),
    );
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name !== 'BucketAlreadyOwnedByYou') throw err;
  }
}

/**
 * A Blob look-alike whose reads are ranged GetObjects, so parquet-wasm's `ParquetFile.fromFile`
 * fetches only the footer and the row groups it decodes. Passing `eTag` pins every range to the
 * version that was sized, so an overwrite mid-read fails instead of mixing two files.
 */
export function s3RangeBlob(s3: S3Client, uri: string, size: number, opts: { eTag?: string } = {}): BlobLike {
  const { bucket, key } = requireKey(uri);
  return rangedBlob(size, (start, end) => getRange(s3, bucket, key, start, end, opts.eTag));
}

const RANGE_ATTEMPTS = 3;

/**
 * A ranged GET's body, copied chunk by chunk into one ArrayBuffer of the size asked for: a whole
 * Parquet row group (tens of MB) is held once, not as chunks plus their concatenation, and it is
 * an ArrayBuffer of this realm, as wasm-bindgen's `instanceof ArrayBuffer` check requires.
 */
async function bodyInto(body: AsyncIterable<Uint8Array>, expected: number, what: string): Promise<ArrayBuffer> {
  const out = new ArrayBuffer(expected);
  const view = new Uint8Array(out);
  let got = 0;
  for await (const chunk of body) {
    if (got + chunk.byteLength > expected) throw new TransientSourceError(`${what}: got more than the ${expected} bytes asked for`);
    view.set(chunk, got);
    got += chunk.byteLength;
  }
  if (got !== expected) throw new TransientSourceError(`${what}: got ${got} bytes, expected ${expected}`);
  return out;
}

/** The SDK retries failed requests, not a body that breaks off mid-stream; this covers both. */
async function getRange(s3: S3Client, bucket: string, key: string, start: number, end: number, eTag?: string): Promise<ArrayBuffer> {
  const what = `GetObject ${formatS3Uri({ bucket, key })} bytes=${start}-${end - 1}`;
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await s3.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          // Explicit inclusive range: some servers mishandle suffix ranges such as bytes=-8.
          Range: `bytes=${start}-${end - 1}`,
          ...(eTag ? { IfMatch: eTag } : {}),
        }),
      );
      // A body cut short is the connection's fault, not the object's: retried, then retryable.
      if (!res.Body) throw new TransientSourceError(`${what}: empty body`);
      return await bodyInto(res.Body as AsyncIterable<Uint8Array>, end - start, what);
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (attempt >= RANGE_ATTEMPTS || (status !== undefined && status < 500)) {
        if (status === 412) throw new Error(`${what}: object changed since it was opened (ETag mismatch)`, { cause: err });
        throw transientSourceError(`${what} (after ${attempt} attempts)`, err) ?? err;
      }
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
  }
}

