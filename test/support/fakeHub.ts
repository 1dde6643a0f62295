import { createHash } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small stand-in for the Hugging Face Hub on 127.0.0.1, serving datasets' Parquet conversion
 * branch the way the Hub does:
 *   GET /api/datasets/{id}/revision/{rev}            → {id, sha}; 404 X-Error-Code RevisionNotFound
 *   GET /api/datasets/{id}/tree/{rev}[/{path}]       → entries directly under path, `pageSize` per page,
 *                                                      next page in `Link: <…?cursor=N>; rel="next"`
 *   GET|HEAD /datasets/{id}/resolve/{rev}/{path}     → 302 to {cdn}/cdn/{sha256}?repo={id} with X-Linked-Etag / X-Linked-Size
 *   GET|HEAD {cdn}/cdn/{sha256}?repo={id}            → bytes, honouring Range (206 + Content-Range) with a CDN ETag
 * The CDN listens on its own port (another origin, like the Hub's LFS/Xet CDN), so a client must
 * not carry the Bearer token across the redirect; it needs none there.
 * `{rev}` is `refs/convert/parquet` (URL-encoded, or raw in /resolve/) or the branch's commit sha.
 * Unknown datasets → 404 RepoNotFound; a private dataset (with `token`) → 401 without a Bearer
 * token, 401 for a token the Hub does not know, 404 for a known token without access.
 * The fake keeps one commit per dataset: `setFile` rewrites it in place (as a broken mirror might),
 * which is what the client's ETag check is there to catch.
 */

export interface FakeHubDataset {
  /** `owner/name`. */
  id: string;
  /** Files on the `refs/convert/parquet` branch, by path, e.g. `default/train/0000.parquet`. */
  files: Record<string, Uint8Array>;
  /** Makes the dataset private: only this Bearer token reads it. */
  token?: string;
  /** False: the dataset has no Parquet conversion branch. Default true. */
  parquetBranch?: boolean;
  /** The CDN ignores Range for this dataset's files and sends them whole (200). */
  ignoreRange?: boolean;
}

export interface FakeHubRequest {
  method: string;
  /** Path and query as sent. */
  path: string;
  range?: string;
  status: number;
  authorized: boolean;
}

export interface FakeHub {
  endpoint: string;
  /** Origin of the CDN the resolve URLs redirect to. */
  cdnEndpoint: string;
  requests: FakeHubRequest[];
  /** Replaces (or adds) a file's bytes without a new commit. */
  setFile(datasetId: string, path: string, bytes: Uint8Array): void;
  /** The next `count` CDN requests answer `status` (e.g. 503) instead of bytes. */
  failNext(count: number, status: number): void;
  stop(): Promise<void>;
}

const PARQUET_REVISION = 'refs/convert/parquet';

interface StoredFile {
  bytes: Uint8Array;
  sha256: string;
  gitOid: string;
}

interface StoredDataset {
  spec: FakeHubDataset;
  sha: string;
  files: Map<string, StoredFile>;
}

const hex = (algo: string, ...parts: Array<string | Uint8Array>): string => {
  const h = createHash(algo);
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

function store(bytes: Uint8Array): StoredFile {
  return { bytes, sha256: hex('sha256', bytes), gitOid: hex('sha1', `blob ${bytes.byteLength}\0`, bytes) };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function hubError(res: ServerResponse, status: number, code: string | undefined, message: string): void {
  json(res, status, { error: message }, code ? { 'X-Error-Code': code, 'X-Error-Message': message } : {});
}

export async function startFakeHub(datasets: FakeHubDataset[], opts: { pageSize?: number } = {}): Promise<FakeHub> {
  const pageSize = opts.pageSize ?? 2;
  const stored = new Map<string, StoredDataset>();
  for (const spec of datasets) {
    const files = new Map(Object.entries(spec.files).map(([p, b]) => [p, store(b)] as const));
    const sha = hex('sha1', spec.id, ...[...files].map(([p, f]) => `${p}:${f.sha256}`));
    stored.set(spec.id, { spec, sha, files });
  }
  const tokens = new Set(datasets.map((d) => d.token).filter((t): t is string => !!t));
  const requests: FakeHubRequest[] = [];
  let endpoint = '';
  let cdnEndpoint = '';
  let failures = { count: 0, status: 503 };

  /** The dataset whose id prefixes `rest` (`owner/name/…`) and what follows it. */
  function findDataset(rest: string): { ds?: StoredDataset; tail: string } {
    const parts = rest.split('/');
    for (const n of [2, 1]) {
      const id = parts.slice(0, n).map(decodeURIComponent).join('/');
      const ds = stored.get(id);
      if (ds) return { ds, tail: parts.slice(n).join('/') };
    }
    return { tail: '' };
  }

  /** Writes the refusal and returns false when the request may not read `ds`. */
  function authorize(req: IncomingMessage, res: ServerResponse, ds: StoredDataset): boolean {
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
    if (auth !== undefined && (!token || !tokens.has(token))) {
      hubError(res, 401, undefined, 'Invalid credentials in Authorization header');
      return false;
    }
    if (!ds.spec.token) return true;
    if (!token) {
      hubError(res, 401, 'RepoNotFound', 'Repository not found');
      return false;
    }
    if (token !== ds.spec.token) {
      hubError(res, 404, 'RepoNotFound', 'Repository not found');
      return false;
    }
    return true;
  }

  function revisionOk(res: ServerResponse, ds: StoredDataset, rev: string): boolean {
    if (ds.spec.parquetBranch !== false && (rev === PARQUET_REVISION || rev === ds.sha)) return true;
    hubError(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
    return false;
  }

  function tree(res: ServerResponse, url: URL, ds: StoredDataset, rest: string): void {
    const [revSeg, ...pathSegs] = rest.split('/');
    if (!revisionOk(res, ds, decodeURIComponent(revSeg))) return;
    const dir = pathSegs.filter(Boolean).map(decodeURIComponent).join('/');
    const prefix = dir ? `${dir}/` : '';
    const entries = new Map<string, object>();
    for (const [path, f] of ds.files) {
      if (!path.startsWith(prefix)) continue;
      const [head, ...more] = path.slice(prefix.length).split('/');
      const child = prefix + head;
      if (more.length) entries.set(child, { type: 'directory', oid: hex('sha1', child), size: 0, path: child });
      else entries.set(child, { type: 'file', oid: f.gitOid, size: f.bytes.byteLength, path: child, lfs: { oid: f.sha256, size: f.bytes.byteLength, pointerSize: 134 } });
    }
    if (dir && !entries.size) {
      hubError(res, 404, 'EntryNotFound', `${dir} does not exist on "${PARQUET_REVISION}"`);
      return;
    }
    const all = [...entries.keys()].sort().map((k) => entries.get(k)!);
    const cursor = Number(url.searchParams.get('cursor') ?? 0);
    const page = all.slice(cursor, cursor + pageSize);
    const headers: Record<string, string> = {};
    if (cursor + pageSize < all.length) {
      const next = new URL(url.pathname, endpoint);
      next.searchParams.set('cursor', String(cursor + pageSize));
      headers.Link = `<${next.href}>; rel="next"`;
    }
    json(res, 200, page, headers);
  }

  function resolve(res: ServerResponse, ds: StoredDataset, rest: string): void {
    let rev: string;
    let path: string;
    if (rest.startsWith(`${PARQUET_REVISION}/`)) {
      rev = PARQUET_REVISION;
      path = rest.slice(PARQUET_REVISION.length + 1);
    } else {
      const i = rest.indexOf('/');
      rev = decodeURIComponent(rest.slice(0, i));
      path = rest.slice(i + 1);
    }
    if (!revisionOk(res, ds, rev)) return;
    const file = ds.files.get(path.split('/').map(decodeURIComponent).join('/'));
    if (!file) {
      hubError(res, 404, 'EntryNotFound', 'Entry not found');
      return;
    }
    res.writeHead(302, {
      // The query stands in for a presigned URL's; it also says whose copy of shared bytes this is.
      Location: `${cdnEndpoint}/cdn/${file.sha256}?repo=${encodeURIComponent(ds.spec.id)}`,
      ETag: `"${file.sha256}"`,
      'X-Linked-Etag': `"${file.sha256}"`,
      'X-Linked-Size': String(file.bytes.byteLength),
      'X-Repo-Commit': ds.sha,
      'Content-Length': '0',
    });
    res.end();
  }

  function cdn(req: IncomingMessage, res: ServerResponse, sha256: string, repo: string | null): void {
    const owner = repo ? stored.get(repo) : undefined;
    const file = owner ? [...owner.files.values()].find((f) => f.sha256 === sha256) : undefined;
    if (failures.count > 0) {
      failures.count--;
      res.writeHead(failures.status, { 'Content-Type': 'text/plain' });
      return void res.end('injected failure');
    }
    if (!file) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      return void res.end('NoSuchKey');
    }
    const size = file.bytes.byteLength;
    const headers = { ETag: `"${hex('md5', file.bytes)}"`, 'Accept-Ranges': 'bytes', 'Content-Type': 'application/octet-stream' };
    const range = owner?.spec.ignoreRange ? undefined : req.headers.range;
    if (!range) {
      res.writeHead(200, { ...headers, 'Content-Length': String(size) });
      return void res.end(req.method === 'HEAD' ? undefined : file.bytes);
    }
    const m = /^bytes=(\d*)-(\d*)$/.exec(range);
    let start = NaN;
    let end = NaN;
    if (m?.[1]) {
      start = Number(m[1]);
      end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
    } else if (m?.[2]) {
      start = Math.max(0, size - Number(m[2]));
      end = size - 1;
    }
    if (!(start <= end && start < size)) {
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}` });
      return void res.end();
    }
    res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': String(end - start + 1) });
    res.end(req.method === 'HEAD' ? undefined : file.bytes.subarray(start, end + 1));
  }

  function routeCdn(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', cdnEndpoint);
    const p = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      hubError(res, 405, undefined, 'Method not allowed');
      return;
    }
    if (p.startsWith('/cdn/')) {
      cdn(req, res, p.slice('/cdn/'.length), url.searchParams.get('repo'));
      return;
    }
    hubError(res, 404, undefined, 'Not Found');
  }

  function routeHub(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', endpoint);
    const p = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      hubError(res, 405, undefined, 'Method not allowed');
      return;
    }
    const api = p.startsWith('/api/datasets/');
    const site = p.startsWith('/datasets/');
    if (!api && !site) {
      hubError(res, 404, undefined, 'Not Found');
      return;
    }
    const { ds, tail } = findDataset(p.slice(api ? '/api/datasets/'.length : '/datasets/'.length));
    if (!ds) {
      hubError(res, 404, 'RepoNotFound', 'Repository not found');
      return;
    }
    if (!authorize(req, res, ds)) return;
    // /tree/ before anything else: the tree path of refs/convert/parquet contains "/parquet/".
    if (api && tail.startsWith('tree/')) {
      tree(res, url, ds, tail.slice('tree/'.length));
      return;
    }
    if (api && tail.startsWith('revision/')) {
      const rev = decodeURIComponent(tail.slice('revision/'.length));
      if (!revisionOk(res, ds, rev)) return;
      json(res, 200, { _id: hex('sha1', ds.spec.id).slice(0, 24), id: ds.spec.id, sha: ds.sha, private: !!ds.spec.token });
      return;
    }
    if (site && tail.startsWith('resolve/')) {
      resolve(res, ds, tail.slice('resolve/'.length));
      return;
    }
    hubError(res, 404, undefined, 'Not Found');
  }

  const serve = (route: (req: IncomingMessage, res: ServerResponse) => void) =>
    createServer((req, res) => {
      res.on('finish', () => {
        requests.push({
          method: req.method ?? '',
          path: req.url ?? '',
          ...(req.headers.range ? { range: req.headers.range } : {}),
          status: res.statusCode,
          authorized: req.headers.authorization !== undefined,
        });
      });
      try {
        route(req, res);
      } catch (err) {
        if (!res.headersSent) hubError(res, 500, undefined, (err as Error).message);
        else res.destroy();
      }
    });
  const listen = async (server: Server): Promise<string> => {
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const close = (server: Server) =>
    new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((err) => (err ? reject(err) : resolve()));
    });
  const hubServer = serve(routeHub);
  const cdnServer = serve(routeCdn);
  endpoint = await listen(hubServer);
  try {
    cdnEndpoint = await listen(cdnServer);
  } catch (err) {
    await close(hubServer);
    throw err;
  }

  return {
    endpoint,
    cdnEndpoint,
    requests,
    setFile(datasetId, path, bytes) {
      const ds = stored.get(datasetId);
      if (!ds) throw new Error(`fake hub: no dataset ${datasetId}`);
      ds.files.set(path, store(bytes));
    },
    failNext(count, status) {
      failures = { count, status };
    },
    async stop() {
      await Promise.all([close(hubServer), close(cdnServer)]);
    },
  };
}
