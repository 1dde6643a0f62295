/**
 * A failed read is either the input's fault (a missing object or split, a file that is not Parquet, bad
 * CSV, a dataset the token may not read: input error types, src/shared/errors.ts, which fail the run at
 * once) or the source's (HTTP 5xx, 429, a dropped or timed-out connection, after the client's own retries).
 * The second kind is a TransientSourceError, which is not an input error type: Temporal retries the activity
 * instead of failing the run for good on a bad minute of S3 or the Hub.
 */

export class TransientSourceError extends Error {
  /** The HTTP status, when the source answered. */
  readonly status?: number;

  constructor(message: string, opts: { status?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TransientSourceError';
    this.status = opts.status;
  }
}

/** Socket-level failures: the request may well succeed when tried again. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** AWS SDK error names of throttling, server errors and timeouts (with or without an HTTP status). */
const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
]);

/** The HTTP status of an AWS SDK error (or a TransientSourceError), if the server answered. */
export function httpStatusOf(err: unknown): number | undefined {
  const e = err as { $metadata?: { httpStatusCode?: number }; status?: unknown } | null;
  if (typeof e?.$metadata?.httpStatusCode === 'number') return e.$metadata.httpStatusCode;
  return typeof e?.status === 'number' ? e.status : undefined;
}

/** Whether `err` is the source's passing trouble rather than something wrong with the input. */
export function isTransientSourceError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { name?: string; code?: string; cause?: { code?: string }; $retryable?: unknown };
  if (e.name === 'TransientSourceError') return true;
  const status = httpStatusOf(err);
  if (status !== undefined && status !== 200 && status !== 206) return status >= 500 || status === 429 || status === 408;
  return (
    TRANSIENT_CODES.has(e.code ?? '') ||
    TRANSIENT_CODES.has(e.cause?.code ?? '') ||
    TRANSIENT_NAMES.has(e.name ?? '') ||
    !!e.$retryable ||
    isWrappedTransient((err as Error).message)
  );
}

/**
 * The AWS SDK rewraps a thrown value that is not an Error of its own realm (node's socket errors seen from
 * a vm sandbox, as under jest) as a bare Error `AWS SDK error wrapper for <name>: <message>`: only the words
 * are left to go by.
 */
function isWrappedTransient(message: unknown): boolean {
  if (typeof message !== 'string' || !message.startsWith('AWS SDK error wrapper for ')) return false;
  return message.split(/[^A-Za-z_]+/).some((word) => TRANSIENT_CODES.has(word) || TRANSIENT_NAMES.has(word));
}

/**
 * `err` as a TransientSourceError whose message says what was being read (`GetObject s3://b/k`) and how it
 * failed (HTTP status and the server's words, or the socket error), when it is transient; else undefined.
 */
export function transientSourceError(what: string, err: unknown): TransientSourceError | undefined {
  if (!isTransientSourceError(err)) return undefined;
  if ((err as Error).name === 'TransientSourceError') return err as TransientSourceError;
  const e = err as Error & { code?: string; cause?: { code?: string } };
  const status = httpStatusOf(err);
  const how = [status === undefined ? undefined : `HTTP ${status}`, e.name !== 'Error' ? e.name : undefined, e.code ?? e.cause?.code]
    .filter((x, i, all) => x && all.indexOf(x) === i)
    .join(' ');
  return new TransientSourceError(`${what}: ${how ? `${how}: ` : ''}${e.message}`, { status, cause: err });
}
