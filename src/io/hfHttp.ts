import { BlobLike, rangedBlob } from './blob';
import { TransientSourceError } from './sourceErrors';

/**
 * Plain `fetch` against the Hugging Face Hub's HTTP API: JSON calls with the Hub's error codes
 * mapped to messages, and a ranged-read Blob for parquet-wasm. (Not `@huggingface/hub`: see
 * huggingface.ts for why.)
 */

export interface HubSettings {
  /** Default https://huggingface.co; no trailing slash. */
  endpoint: string;
  token?: string;
}

/**
 * name 'DatasetError' so the app treats it as an input error (src/shared/errors.ts): only for answers that
 * say the input is wrong (401/403/404, a file that changed, a server that ignores Range). Failures that
 * outlast the retries here (5xx, 429, network) are TransientSourceErrors, which Temporal retries.
 */
export class HubDatasetError extends Error {
  /** HTTP status and the Hub's X-Error-Code when the error is a Hub answer. */
  readonly status?: number;
  readonly code?: string;

  constructor(message: string, opts: { status?: number; code?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'DatasetError';
    this.status = opts.status;
    this.code = opts.code;
  }
}

const API_TIMEOUT_MS = 60_000;
const RANGE_TIMEOUT_MS = 10 * 60_000;
const ATTEMPTS = 3;
const MAX_REDIRECTS = 5;
const USER_AGENT = 'bedrock-batch-temporal (hf-parquet)';

/** A failure worth another attempt: network error, timeout, 429 or 5xx. */
class RetryableError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

function retryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function withRetries<T>(what: string, run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (!(err instanceof RetryableError)) throw err;
      if (attempt >= ATTEMPTS) {
        throw new TransientSourceError(`${what}: ${err.message} (after ${ATTEMPTS} attempts)`, { status: err.status, cause: err });
      }
      await sleep(250 * 2 ** attempt);
    }
  }
}

function headersFor(hub: HubSettings, extra: Record<string, string> = {}): Record<string, string> {
  return { 'User-Agent': USER_AGENT, ...(hub.token ? { Authorization: `Bearer ${hub.token}` } : {}), ...extra };
}

/** The Hub's own explanation: `{"error": …}` JSON, X-Error-Message, or the start of the body. */
function hubMessage(res: Response, body: string): string {
  const header = res.headers.get('x-error-message');
  try {
    const json = JSON.parse(body) as { error?: unknown };
    if (typeof json.error === 'string' && json.error) return json.error;
  } catch {
    // not JSON
  }
  if (header) return header;
  const text = body.replace(/\s+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text || res.statusText;
}

export interface HubRequestContext {
  hub: HubSettings;
  datasetId: string;
  /** What was being done, for messages, e.g. `listing default/train`. */
  what: string;
}

/** A Hub error answer as a message that says what to do about it. */
export function hubHttpError(ctx: HubRequestContext, res: Response, body: string): HubDatasetError {
  const { hub, datasetId } = ctx;
  const code = res.headers.get('x-error-code') ?? undefined;
  const said = hubMessage(res, body);
  const opts = { status: res.status, code };
  const ds = `Hugging Face dataset "${datasetId}"`;
  if (res.status === 401) {
    return hub.token
      ? new HubDatasetError(`${ds}: the Hub refused the token in HF_TOKEN (401: ${said}); check that it is valid and can read this dataset`, opts)
      : new HubDatasetError(
          `${ds}: authentication required (401: ${said}); the dataset is private or gated, or does not exist on ${hub.endpoint}. ` +
            'Set HF_TOKEN to a token that can read it',
          opts,
        );
  }
  if (res.status === 403) {
    return new HubDatasetError(
      `${ds}: access denied (403: ${said}); ` +
        (hub.token
          ? 'the token in HF_TOKEN may not read it (for a gated dataset, accept its conditions on the Hub with that account)'
          : 'set HF_TOKEN to a token that can read it'),
      opts,
    );
  }
  if (res.status === 404 && (code === 'RepoNotFound' || code === undefined)) {
    return new HubDatasetError(`${ds} not found on ${hub.endpoint} (404: ${said})${hub.token ? '' : '; if it is private, set HF_TOKEN'}`, opts);
  }
  return new HubDatasetError(`${ds}: ${ctx.what} failed: HTTP ${res.status} ${said}`, opts);
}

/** GET a Hub API URL as JSON, with its Link header (pagination). Retries network errors, 429 and 5xx. */
export async function hubGetJson<T>(ctx: HubRequestContext, url: string): Promise<{ body: T; link: string | null }> {
  return withRetries(`${ctx.what} (${url})`, async () => {
    let res: Response;
    try {
      res = await fetch(url, { headers: headersFor(ctx.hub, { Accept: 'application/json' }), signal: AbortSignal.timeout(API_TIMEOUT_MS) });
    } catch (err) {
      throw new RetryableError(describeFetchError(err));
    }
    const text = await res.text();
    if (!res.ok) {
      if (retryableStatus(res.status)) throw new RetryableError(`HTTP ${res.status} ${hubMessage(res, text)}`, res.status);
      throw hubHttpError(ctx, res, text);
    }
    try {
      return { body: JSON.parse(text) as T, link: res.headers.get('link') };
    } catch {
      throw new HubDatasetError(`Hugging Face dataset "${ctx.datasetId}": ${ctx.what}: the Hub's answer is not JSON: ${text.slice(0, 120)}`);
    }
  });
}

function describeFetchError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out';
  return e.cause?.message ? `${e.message}: ${e.cause.message}` : e.message;
}

/** The `rel="next"` URL of a Link header, resolved against the request URL. */
export function nextLink(link: string | null, base: string): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]*)>\s*;(.*)$/.exec(part.trim());
    if (m && /\brel\s*=\s*"?next"?/i.test(m[2])) return new URL(m[1], base).href;
  }
  return undefined;
}

/** `"abc"`, `W/"abc"` → `abc`. */
export function normalizeETag(tag: string | null | undefined): string | undefined {
  if (!tag) return undefined;
  return tag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

export interface HubFileRef {
  /** Path in the repository, for messages. */
  path: string;
  /** Pinned to a commit: `/datasets/{id}/resolve/{sha}/{path}`. */
  url: string;
  size: number;
  /** From the listing: the LFS sha256 (or git oid), which the Hub repeats as X-Linked-Etag / ETag. */
  eTag: string;
}

/**
 * A Blob whose `slice(a, b).arrayBuffer()` is one `GET url` with `Range: bytes=a-(b-1)`. Redirects
 * (the Hub's 302 to its LFS/Xet CDN) are followed by hand: the Bearer token goes to the Hub's own
 * origin only, and the Hub's ETag (on the first hop, before the CDN's own) must equal the listed
 * one. The answer must be 206 with the asked Content-Range and the file's full size, and exactly
 * b-a bytes — a 200 (Range ignored) is refused before its body is read.
 */
export function hubRangeBlob(hub: HubSettings, datasetId: string, file: HubFileRef): BlobLike {
  return rangedBlob(file.size, (start, end) => readRange(hub, datasetId, file, start, end));
}

async function readRange(hub: HubSettings, datasetId: string, file: HubFileRef, start: number, end: number): Promise<ArrayBuffer> {
  const range = `bytes=${start}-${end - 1}`;
  const what = `GET ${file.path} ${range}`;
  const ctx: HubRequestContext = { hub, datasetId, what: `reading ${file.path}` };
  return withRetries(`Hugging Face dataset "${datasetId}": ${what}`, async () => {
    const hubOrigin = new URL(file.url).origin;
    let url = file.url;
    for (let hop = 0; ; hop++) {
      const sameOrigin = new URL(url).origin === hubOrigin;
      let res: Response;
      try {
        res = await fetch(url, {
          headers: sameOrigin ? headersFor(hub, { Range: range }) : { 'User-Agent': USER_AGENT, Range: range },
          redirect: 'manual',
          signal: AbortSignal.timeout(RANGE_TIMEOUT_MS),
        });
      } catch (err) {
        throw new RetryableError(`${describeFetchError(err)} (${url})`);
      }
      if (hop === 0) checkETag(res, file, datasetId);
      if ([301, 302, 303, 307, 308].includes(res.status)) {
        const location = res.headers.get('location');
        await res.body?.cancel();
        if (!location) throw new HubDatasetError(`Hugging Face dataset "${datasetId}": ${what}: HTTP ${res.status} without a Location`);
        if (hop >= MAX_REDIRECTS) throw new HubDatasetError(`Hugging Face dataset "${datasetId}": ${what}: more than ${MAX_REDIRECTS} redirects`);
        url = new URL(location, url).href;
        continue;
      }
      if (res.status !== 206) {
        if (res.status === 200 || res.status === 416) {
          await res.body?.cancel();
          throw new HubDatasetError(
            `Hugging Face dataset "${datasetId}": ${what}: expected 206 Partial Content, got ${res.status} ` +
              (res.status === 200 ? '(the server ignored the Range header; refusing to download the whole file)' : '(range not satisfiable)'),
            { status: res.status },
          );
        }
        const text = await res.text().catch(() => '');
        if (retryableStatus(res.status)) throw new RetryableError(`HTTP ${res.status} ${hubMessage(res, text)} from ${url}`, res.status);
        if (res.status === 404 && hop === 0) {
          throw new HubDatasetError(
            `Hugging Face dataset "${datasetId}": ${file.path} is no longer at ${file.url} (404: ${hubMessage(res, text)}); ` +
              'the Parquet conversion changed since the run started — start a new run',
            { status: 404, code: res.headers.get('x-error-code') ?? undefined },
          );
        }
        throw hubHttpError(ctx, res, text);
      }
      const contentRange = res.headers.get('content-range');
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange?.trim() ?? '');
      if (!m || Number(m[1]) !== start || Number(m[2]) !== end - 1 || (m[3] !== '*' && Number(m[3]) !== file.size)) {
        await res.body?.cancel();
        throw new HubDatasetError(
          `Hugging Face dataset "${datasetId}": ${what}: Content-Range ${contentRange ?? '(none)'} does not match ` +
            `bytes ${start}-${end - 1}/${file.size}; the file changed since it was listed`,
        );
      }
      let body: ArrayBuffer;
      try {
        body = await res.arrayBuffer();
      } catch (err) {
        // A body that breaks off mid-stream.
        throw new RetryableError(`${describeFetchError(err)} (${url})`);
      }
      if (body.byteLength !== end - start) throw new RetryableError(`got ${body.byteLength} bytes, expected ${end - start} (${url})`);
      if (body instanceof ArrayBuffer) return body;
      // wasm-bindgen checks `instanceof ArrayBuffer` against this realm's constructor.
      const foreign = new Uint8Array(body as ArrayBufferLike);
      const out = new ArrayBuffer(foreign.byteLength);
      new Uint8Array(out).set(foreign);
      return out;
    }
  });
}

function checkETag(res: Response, file: HubFileRef, datasetId: string): void {
  const seen = [res.headers.get('x-linked-etag'), res.headers.get('etag')].map(normalizeETag).filter((t): t is string => !!t);
  if (seen.length && !seen.includes(file.eTag)) {
    throw new HubDatasetError(
      `Hugging Face dataset "${datasetId}": ${file.path} changed since it was listed (ETag ${seen[0]}, expected ${file.eTag}); start a new run`,
      { status: 412 },
    );
  }
  const linkedSize = res.headers.get('x-linked-size');
  if (linkedSize !== null && Number(linkedSize) !== file.size) {
    throw new HubDatasetError(
      `Hugging Face dataset "${datasetId}": ${file.path} changed since it was listed (size ${linkedSize}, expected ${file.size}); start a new run`,
      { status: 412 },
    );
  }
}

