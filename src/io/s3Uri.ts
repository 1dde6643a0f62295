export interface S3Location {
  bucket: string;
  key: string;
}

const BUCKET_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** `s3://bucket/key`; the key may be empty (a bucket-wide prefix). Keys are taken verbatim, not URL-decoded. */
export function parseS3Uri(uri: string): S3Location {
  if (typeof uri !== 'string' || !uri.startsWith('s3://')) {
    throw new Error(`invalid S3 URI ${JSON.stringify(uri)}: expected s3://bucket/key`);
  }
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  if (!BUCKET_RE.test(bucket)) {
    throw new Error(`invalid S3 URI ${JSON.stringify(uri)}: bad or missing bucket name`);
  }
  return { bucket, key };
}

export function formatS3Uri(loc: S3Location): string {
  if (!BUCKET_RE.test(loc.bucket)) throw new Error(`invalid S3 bucket name ${JSON.stringify(loc.bucket)}`);
  return `s3://${loc.bucket}/${loc.key}`;
}

/**
 * Joins path segments with exactly one `/` between them. A trailing slash on the last segment is
 * kept, so the result can serve as a "directory" prefix for listObjects.
 */
export function joinS3Uri(base: string, ...parts: string[]): string {
  const { bucket, key } = parseS3Uri(base);
  const segments = [key, ...parts].map((p) => p.replace(/^\/+|\/+$/g, '')).filter((p) => p.length > 0);
  const last = parts.length > 0 ? parts[parts.length - 1] : key;
  const trailing = segments.length > 0 && last.endsWith('/') ? '/' : '';
  return formatS3Uri({ bucket, key: segments.join('/') + trailing });
}

/** For calls that address one object rather than a prefix. */
export function requireKey(uri: string): S3Location {
  const loc = parseS3Uri(uri);
  if (!loc.key) throw new Error(`invalid S3 object URI ${JSON.stringify(uri)}: missing key`);
  return loc;
}

