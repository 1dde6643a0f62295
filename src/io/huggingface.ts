import { Schema } from 'apache-arrow';
import { createHash } from 'node:crypto';
import { type HubRequestContext, type HubSettings, HubDatasetError, hubGetJson, hubRangeBlob, nextLink, normalizeETag } from './hfHttp';
import { type ParquetFileInfo, readParquetInfo } from './parquetRead';
import { rowGroupRows } from './parquetRows';
import { isTransientSourceError } from './sourceErrors';
import type { BlobLike } from './blob';

/**
 * Hugging Face Hub datasets as input, read from the Hub's Parquet conversion branch
 * (`refs/convert/parquet`, files `{config}/{split}/NNNN.parquet` or `{config}/partial-{split}/…`)
 * through ranged HTTP GETs, one row group at a time.
 *
 * Plain `fetch` rather than `@huggingface/hub`: that library ignores HF_ENDPOINT/HF_TOKEN, encodes
 * revisions differently in listFiles and downloadFile, probes every file with an extra request,
 * may hand back an XetBlob (its own chunk-reconstruction protocol), and gives no hook to insist on
 * 206 + Content-Range or to keep the token off the CDN hop. The three Hub endpoints used here are
 * small and stable:
 *   GET {endpoint}/api/datasets/{id}/revision/{rev}?expand=sha      → the branch's commit (pins every later read)
 *   GET {endpoint}/api/datasets/{id}/tree/{sha}/{path}              → directory listing, paged by Link: rel="next"
 *   GET {endpoint}/datasets/{id}/resolve/{sha}/{path} + Range       → 302 to the CDN → 206
 */

export { HubDatasetError };
export type { HubSettings };

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';
export const PARQUET_REVISION = 'refs/convert/parquet';

export function hubSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): HubSettings {
  const endpoint = (env.HF_ENDPOINT?.trim() || DEFAULT_HUB_ENDPOINT).replace(/\/+$/, '');
  const token = env.HF_TOKEN?.trim() || undefined;
  return token ? { endpoint, token } : { endpoint };
}

export interface HubDatasetRef {
  /** `owner/name`. */
  datasetId: string;
  split: string;
  /** Default 'default'. */
  config?: string;
  /** Revision of the Parquet conversion, default `refs/convert/parquet`; a commit sha pins it. */
  revision?: string;
}

export interface HubParquetFile {
  /** Path in the repository, e.g. `default/train/0000.parquet`. */
  path: string;
  size: number;
  /** The Hub's ETag for the file (LFS sha256, or git oid for a non-LFS file). */
  eTag: string;
  /** Commit-pinned `/resolve/` URL. */
  url: string;
}

interface TreeEntry {
  type: 'file' | 'directory' | string;
  path: string;
  size?: number;
  oid?: string;
  lfs?: { oid?: string; size?: number };
}

const FOOTER_CONCURRENCY = 4;
const SEGMENT = /^(?!\.\.?$)[^/\\\s]+$/;
const DATASET_ID = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/;

function endpointOf(hub: HubSettings): string {
  const endpoint = hub.endpoint.replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]/.test(endpoint)) throw new HubDatasetError(`Hugging Face endpoint "${hub.endpoint}" is not an http(s) URL (HF_ENDPOINT)`);
  return endpoint;
}

function checkRef(ref: HubDatasetRef): Required<HubDatasetRef> {
  const config = ref.config ?? 'default';
  const revision = ref.revision ?? PARQUET_REVISION;
  if (!DATASET_ID.test(ref.datasetId) || ref.datasetId.includes('..')) {
    throw new HubDatasetError(`Hugging Face dataset id "${ref.datasetId}" is not of the form owner/name`);
  }
  if (!SEGMENT.test(config)) throw new HubDatasetError(`Hugging Face dataset "${ref.datasetId}": invalid config name "${config}"`);
  if (!SEGMENT.test(ref.split)) throw new HubDatasetError(`Hugging Face dataset "${ref.datasetId}": invalid split name "${ref.split}"`);
  if (!revision.trim()) throw new HubDatasetError(`Hugging Face dataset "${ref.datasetId}": empty revision`);
  return { datasetId: ref.datasetId, split: ref.split, config, revision };
}

const encodePath = (path: string): string => path.split('/').map(encodeURIComponent).join('/');

/** `hf://datasets/{id}@{rev}/{path}`, the form huggingface_hub's HfFileSystem reads. */
function fileLabel(ref: Required<HubDatasetRef>, path: string): string {
  return `hf://datasets/${ref.datasetId}@${encodeURIComponent(ref.revision)}/${path}`;
}

/** The commit the revision points at now; every later listing and read uses it. */
async function resolveCommit(hub: HubSettings, ref: Required<HubDatasetRef>): Promise<string> {
  const ctx: HubRequestContext = { hub, datasetId: ref.datasetId, what: `resolving revision ${ref.revision}` };
  const url = `${endpointOf(hub)}/api/datasets/${ref.datasetId}/revision/${encodeURIComponent(ref.revision)}?expand=sha`;
  try {
    const { body } = await hubGetJson<{ sha?: unknown }>(ctx, url);
    if (typeof body.sha !== 'string' || !body.sha) {
      throw new HubDatasetError(`Hugging Face dataset "${ref.datasetId}": the Hub's revision info for ${ref.revision} has no commit sha`);
    }
    return body.sha;
  } catch (err) {
    if (err instanceof HubDatasetError && err.status === 404 && err.code === 'RevisionNotFound') {
      throw new HubDatasetError(
        ref.revision === PARQUET_REVISION
          ? `Hugging Face dataset "${ref.datasetId}" has no Parquet conversion (branch ${PARQUET_REVISION} not found); ` +
              'the Hub converts datasets its dataset viewer supports'
          : `Hugging Face dataset "${ref.datasetId}": revision "${ref.revision}" not found`,
        { status: 404, code: err.code, cause: err },
      );
    }
    throw err;
  }
}

/** Entries directly under `dir` ('' = root), all pages; undefined when the Hub says the path does not exist. */
async function listDir(hub: HubSettings, ref: Required<HubDatasetRef>, sha: string, dir: string): Promise<TreeEntry[] | undefined> {
  const ctx: HubRequestContext = { hub, datasetId: ref.datasetId, what: `listing ${dir || '/'} at ${ref.revision}` };
  let url: string | undefined = `${endpointOf(hub)}/api/datasets/${ref.datasetId}/tree/${encodeURIComponent(sha)}${dir ? `/${encodePath(dir)}` : ''}`;
  const out: TreeEntry[] = [];
  const seen = new Set<string>();
  try {
    while (url) {
      if (seen.has(url)) throw new HubDatasetError(`Hugging Face dataset "${ref.datasetId}": ${ctx.what}: the Hub's pagination loops`);
      seen.add(url);
      const page: { body: TreeEntry[]; link: string | null } = await hubGetJson<TreeEntry[]>(ctx, url);
      if (!Array.isArray(page.body)) throw new HubDatasetError(`Hugging Face dataset "${ref.datasetId}": ${ctx.what}: the Hub's answer is not a list`);
      out.push(...page.body);
      url = nextLink(page.link, url);
    }
  } catch (err) {
    if (err instanceof HubDatasetError && err.status === 404 && err.code !== 'RepoNotFound' && err.code !== 'RevisionNotFound') return undefined;
    throw err;
  }
  return out;
}

const baseName = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
const collator = new Intl.Collator('en', { numeric: true });

/** Says which of config or split is missing, listing the ones that exist. */
async function missingSplitError(hub: HubSettings, ref: Required<HubDatasetRef>, sha: string): Promise<HubDatasetError> {
  const ds = `Hugging Face dataset "${ref.datasetId}"`;
  const root = (await listDir(hub, ref, sha, '')) ?? [];
  const configs = root.filter((e) => e.type === 'directory').map((e) => baseName(e.path)).sort(collator.compare);
  if (!configs.includes(ref.config)) {
    return new HubDatasetError(
      `${ds} has no config "${ref.config}" in its Parquet conversion; available configs: ${configs.length ? configs.join(', ') : '(none)'}`,
    );
  }
  const dirs = ((await listDir(hub, ref, sha, ref.config)) ?? []).filter((e) => e.type === 'directory').map((e) => baseName(e.path));
  const splits = [...new Set(dirs.map((d) => (d.startsWith('partial-') ? `${d.slice('partial-'.length)} (partial)` : d)))].sort(collator.compare);
  return new HubDatasetError(
    `${ds} has no split "${ref.split}" in config "${ref.config}"; available splits: ${splits.length ? splits.join(', ') : '(none)'}`,
  );
}

async function listFilesAt(hub: HubSettings, ref: Required<HubDatasetRef>): Promise<HubParquetFile[]> {
  const sha = await resolveCommit(hub, ref);
  let dir = `${ref.config}/${ref.split}`;
  let entries = await listDir(hub, ref, sha, dir);
  if (!entries) {
    // A conversion stopped at the size limit lives under partial-{split}.
    dir = `${ref.config}/partial-${ref.split}`;
    entries = await listDir(hub, ref, sha, dir);
  }
  if (!entries) throw await missingSplitError(hub, ref, sha);
  const files = entries
    .filter((e) => e.type === 'file' && /\.parquet$/i.test(e.path))
    .sort((a, b) => collator.compare(a.path, b.path))
    .map((e): HubParquetFile => {
      const size = e.lfs?.size ?? e.size;
      const eTag = normalizeETag(e.lfs?.oid ?? e.oid);
      if (typeof size !== 'number' || !eTag) {
        throw new HubDatasetError(`Hugging Face dataset "${ref.datasetId}": the Hub's listing of ${e.path} has no size or oid`);
      }
      return { path: e.path, size, eTag, url: `${endpointOf(hub)}/datasets/${ref.datasetId}/resolve/${encodeURIComponent(sha)}/${encodePath(e.path)}` };
    });
  if (!files.length) {
    throw new HubDatasetError(
      `Hugging Face dataset "${ref.datasetId}": split "${ref.split}" of config "${ref.config}" is empty (no Parquet files under ${dir} at ${ref.revision})`,
    );
  }
  return files;
}

/** The split's Parquet files, in order. */
export async function listHubParquetFiles(hub: HubSettings, ref: HubDatasetRef): Promise<HubParquetFile[]> {
  return listFilesAt(hub, checkRef(ref));
}

/** Identity of the exact bytes read: every file's path, size and ETag. */
function filesETag(files: HubParquetFile[]): string {
  const h = createHash('sha256');
  for (const f of files) h.update(`${f.path}\0${f.size}\0${f.eTag}\n`);
  return `hf-${h.digest('hex')}`;
}

function describeSchema(schema: Schema): string[] {
  return schema.fields.map((f) => `${f.name}: ${String(f.type)}`);
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Wraps a reader error with the file's name; Hub/HTTP errors already say what they are, and a read that
 * outlasted its retries (TransientSourceError) stays retryable rather than calling the file unreadable.
 */
function unreadable(ref: Required<HubDatasetRef>, file: HubParquetFile, err: unknown): Error {
  if (err instanceof HubDatasetError || isTransientSourceError(err)) return err as Error;
  return new HubDatasetError(`${fileLabel(ref, file.path)}: not a readable Parquet file: ${(err as Error).message}`, { cause: err });
}

/**
 * Every file's footer (one ranged GET each, a few at a time): the split's schema, which all files
 * must share, and its row count. Fails on the first unreadable file, naming it.
 */
async function readFooters(
  hub: HubSettings,
  ref: Required<HubDatasetRef>,
  files: HubParquetFile[],
): Promise<{ schema: Schema; rowCount: number; infos: ParquetFileInfo[] }> {
  const infos: ParquetFileInfo[] = await mapLimited(files, FOOTER_CONCURRENCY, (f) =>
    readParquetInfo(hubRangeBlob(hub, ref.datasetId, f)).catch((err: unknown) => {
      throw unreadable(ref, f, err);
    }),
  );
  const schema = infos[0].schema;
  const want = describeSchema(schema);
  infos.forEach((info, i) => {
    const got = describeSchema(info.schema);
    if (got.join('\n') !== want.join('\n')) {
      throw new HubDatasetError(
        `${fileLabel(ref, files[i].path)}: its columns (${got.join(', ')}) differ from ${files[0].path}'s (${want.join(', ')})`,
      );
    }
  });
  const rowCount = infos.reduce((n, info) => n + info.numRows, 0);
  if (rowCount === 0) {
    throw new HubDatasetError(`Hugging Face dataset "${ref.datasetId}": split "${ref.split}" of config "${ref.config}" is empty (0 rows in ${files.length} file(s))`);
  }
  return { schema, rowCount, infos };
}

/**
 * The split's schema from its Parquet footers (no data pages read), and an identity for the exact
 * files (changes when the conversion is redone). Fails early on an unreadable or mismatched file.
 */
export async function readHubDatasetSchema(
  hub: HubSettings,
  ref: HubDatasetRef,
): Promise<{ schema: Schema; eTag: string; files: HubParquetFile[]; rowCount: number }> {
  const checked = checkRef(ref);
  const files = await listFilesAt(hub, checked);
  const { schema, rowCount } = await readFooters(hub, checked, files);
  return { schema, eTag: filesETag(files), files, rowCount };
}

/**
 * Streams the split's rows, file after file in order, each through ranged GETs one row group at a
 * time (memory follows the row-group size, never a whole file). Same shape as `openDataset`.
 */
export async function openHubDataset(
  hub: HubSettings,
  ref: HubDatasetRef,
): Promise<{ schema: Schema; eTag: string; rowCount: number; files: HubParquetFile[]; rows: AsyncIterable<unknown[]> }> {
  const checked = checkRef(ref);
  const files = await listFilesAt(hub, checked);
  const { schema, rowCount, infos } = await readFooters(hub, checked, files);
  const blobs = files.map((f) => hubRangeBlob(hub, checked.datasetId, f));
  const spans = infos.map((info, file) => ({ file, start: 0, end: info.numRowGroups }));
  const describeError = (file: number, err: unknown) => unreadable(checked, files[file], err);
  const rows = { [Symbol.asyncIterator]: () => rowGroupRows(blobs, spans, { describeError }) };
  return { schema, eTag: filesETag(files), rowCount, files, rows };
}

/** Every file's row groups (rows, uncompressed bytes), for cutting the split into preprocessing parts. */
export async function readHubRowGroupLayout(
  hub: HubSettings,
  ref: HubDatasetRef,
): Promise<{ schema: Schema; eTag: string; files: Array<Array<{ rows: number; bytes: number }>> }> {
  const checked = checkRef(ref);
  const files = await listFilesAt(hub, checked);
  const { schema, infos } = await readFooters(hub, checked, files);
  return { schema, eTag: filesETag(files), files: infos.map((info) => info.rowGroups.map((g) => ({ rows: g.numRows, bytes: g.totalByteSize }))) };
}

/** The Hub files of the split as ranged blobs, in listing order, with the identity of the listing. */
export async function hubSplitBlobs(
  hub: HubSettings,
  ref: HubDatasetRef,
): Promise<{ eTag: string; blobs: BlobLike[]; describeError: (file: number, err: unknown) => Error }> {
  const checked = checkRef(ref);
  const files = await listFilesAt(hub, checked);
  return {
    eTag: filesETag(files),
    blobs: files.map((f) => hubRangeBlob(hub, checked.datasetId, f)),
    describeError: (file, err) => unreadable(checked, files[file], err),
  };
}
