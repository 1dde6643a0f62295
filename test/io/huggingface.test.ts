import { Field, Int32, RecordBatch, Schema, Utf8 } from 'apache-arrow';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { int32Data, recordBatchOf, utf8Data } from '../../src/io/arrowColumns';
import { hubRangeBlob } from '../../src/io/hfHttp';
import {
  type HubSettings,
  HubDatasetError,
  hubSettingsFromEnv,
  listHubParquetFiles,
  openHubDataset,
  readHubDatasetSchema,
} from '../../src/io/huggingface';
import { writeParquetToFile } from '../../src/io/parquetWrite';
import { type FakeHub, startFakeHub } from '../support/fakeHub';
import { TransientSourceError } from '../../src/io/sourceErrors';
import { INPUT_ERROR_TYPES } from '../../src/shared/errors';

const schema = new Schema([new Field('record_id', new Utf8(), false), new Field('text', new Utf8(), true), new Field('n', new Int32(), true)]);
const otherSchema = new Schema([new Field('question', new Utf8(), true)]);

type Row = [string, string | null, number | null];

/** ~1.4 KB of incompressible text per row, so a 1,200-row file is bigger than the reader's 1 MiB footer read. */
function makeRows(n: number, offset: number, textBytes = 1050): Row[] {
  return Array.from({ length: n }, (_, j) => {
    const i = offset + j;
    const text = i % 11 === 0 ? null : i % 5 === 0 ? `ünïcødé 😀 ${i}` : `${i}:${randomBytes(textBytes).toString('base64')}`;
    return [`r${i}`, text, i % 7 === 0 ? null : i * 3];
  });
}

function batchOf(rows: Row[]): RecordBatch {
  return recordBatchOf(schema, [utf8Data(rows.map((r) => r[0])), utf8Data(rows.map((r) => r[1])), int32Data(rows.map((r) => r[2]))]);
}

let dir: string;
let fileCounter = 0;

async function parquetBytes(batches: RecordBatch[], batchSchema: Schema = schema): Promise<Uint8Array> {
  const path = join(dir, `f${fileCounter++}.parquet`);
  await writeParquetToFile(path, batches, { compression: 'snappy', maxRowGroupRows: 400, schema: batchSchema });
  return new Uint8Array(await readFile(path));
}

async function collect(rows: AsyncIterable<unknown[]>): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for await (const r of rows) out.push(r);
  return out;
}

const TOKEN = 'hf_fake_secret_token';
const train0 = makeRows(1200, 0);
const train1 = makeRows(1200, 1200);
const testRows = makeRows(10, 5000, 20);
const validationRows = makeRows(7, 6000, 20);
const privateRows = makeRows(25, 7000, 20);

let hub: FakeHub;
let settings: HubSettings;
let trainBytes: Uint8Array[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'io-hf-'));
  trainBytes = [await parquetBytes([batchOf(train0)]), await parquetBytes([batchOf(train1)])];
  const small = await parquetBytes([batchOf(makeRows(3, 9000, 20))]);
  hub = await startFakeHub(
    [
      {
        id: 'acme/qa',
        files: {
          'default/train/0000.parquet': trainBytes[0],
          'default/train/0001.parquet': trainBytes[1],
          'default/test/0000.parquet': await parquetBytes([batchOf(testRows)]),
          'default/partial-validation/0000.parquet': await parquetBytes([batchOf(validationRows)]),
          'default/empty/0000.parquet': await parquetBytes([]),
          'default/nofiles/dataset_info.json': new TextEncoder().encode('{}'),
          'default/broken/0000.parquet': new TextEncoder().encode('this is not a parquet file, only text pretending to be one\n'.repeat(20)),
          'default/mixed/0000.parquet': small,
          'default/mixed/0001.parquet': await parquetBytes([recordBatchOf(otherSchema, [utf8Data(['q1', 'q2'])])], otherSchema),
          'other/train/0000.parquet': await parquetBytes([recordBatchOf(otherSchema, [utf8Data(['a', null, 'c'])])], otherSchema),
        },
      },
      { id: 'acme/private', token: TOKEN, files: { 'default/train/0000.parquet': await parquetBytes([batchOf(privateRows)]) } },
      { id: 'acme/unconverted', parquetBranch: false, files: { 'default/train/0000.parquet': small } },
      { id: 'acme/mutable', files: { 'default/train/0000.parquet': small } },
      { id: 'acme/norange', ignoreRange: true, files: { 'default/train/0000.parquet': small } },
    ],
    { pageSize: 1 },
  );
  settings = { endpoint: hub.endpoint };
});

afterAll(async () => {
  await hub?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Expects `promise` to reject with a HubDatasetError (name DatasetError) whose message matches all of `patterns`. */
async function expectDatasetError(promise: Promise<unknown>, ...patterns: Array<RegExp | string>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HubDatasetError);
  expect((err as Error).name).toBe('DatasetError');
  const message = (err as Error).message;
  for (const p of patterns) expect(message).toMatch(p);
  return message;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('hubSettingsFromEnv', () => {
  it('defaults to huggingface.co without a token', () => {
    expect(hubSettingsFromEnv({})).toEqual({ endpoint: 'https://huggingface.co' });
    expect(hubSettingsFromEnv({ HF_ENDPOINT: '', HF_TOKEN: '  ' })).toEqual({ endpoint: 'https://huggingface.co' });
  });

  it('honours HF_ENDPOINT (trailing slash dropped) and HF_TOKEN', () => {
    expect(hubSettingsFromEnv({ HF_ENDPOINT: 'https://hf-mirror.example.com/', HF_TOKEN: 'hf_abc' })).toEqual({
      endpoint: 'https://hf-mirror.example.com',
      token: 'hf_abc',
    });
  });
});

describe('listing the Parquet conversion', () => {
  it("lists a split's files in order with size and the Hub's ETag, pinned to the branch's commit", async () => {
    hub.requests.length = 0;
    const files = await listHubParquetFiles(settings, { datasetId: 'acme/qa', split: 'train' });
    expect(files.map((f) => f.path)).toEqual(['default/train/0000.parquet', 'default/train/0001.parquet']);
    expect(files.map((f) => f.size)).toEqual(trainBytes.map((b) => b.byteLength));
    expect(files.map((f) => f.eTag)).toEqual(trainBytes.map(sha256));
    for (const f of files) expect(f.url).toMatch(new RegExp(`^${hub.endpoint}/datasets/acme/qa/resolve/[0-9a-f]{40}/default/train/000[01]\\.parquet$`));
    // One page per entry (pageSize 1): the client followed the Link header.
    const treeCalls = hub.requests.filter((r) => r.path.includes('/tree/'));
    expect(treeCalls.some((r) => r.path.includes('cursor=1'))).toBe(true);
    expect(hub.requests.some((r) => r.path.startsWith('/api/datasets/acme/qa/revision/refs%2Fconvert%2Fparquet'))).toBe(true);
  });

  it("uses config 'default' when none is given", async () => {
    const implicit = await listHubParquetFiles(settings, { datasetId: 'acme/qa', split: 'test' });
    const explicit = await listHubParquetFiles(settings, { datasetId: 'acme/qa', split: 'test', config: 'default' });
    expect(implicit).toEqual(explicit);
    expect(implicit.map((f) => f.path)).toEqual(['default/test/0000.parquet']);
    const other = await listHubParquetFiles(settings, { datasetId: 'acme/qa', split: 'train', config: 'other' });
    expect(other.map((f) => f.path)).toEqual(['other/train/0000.parquet']);
  });

  it('falls back to partial-{split} for a partially converted split', async () => {
    const files = await listHubParquetFiles(settings, { datasetId: 'acme/qa', split: 'validation' });
    expect(files.map((f) => f.path)).toEqual(['default/partial-validation/0000.parquet']);
    const { rows } = await openHubDataset(settings, { datasetId: 'acme/qa', split: 'validation' });
    expect(await collect(rows)).toEqual(validationRows);
  });
});

describe('reading a split', () => {
  it('streams two files in order with the right rows and types, by ranged GETs only', async () => {
    hub.requests.length = 0;
    const ds = await openHubDataset(settings, { datasetId: 'acme/qa', split: 'train' });
    expect(ds.schema.fields.map((f) => [f.name, String(f.type), f.nullable])).toEqual([
      ['record_id', 'Utf8', false],
      ['text', 'Utf8', true],
      ['n', 'Int32', true],
    ]);
    expect(ds.rowCount).toBe(2400);
    expect(ds.eTag).toMatch(/^hf-[0-9a-f]{64}$/);
    const rows = await collect(ds.rows);
    expect(rows.length).toBe(2400);
    expect(rows).toEqual([...train0, ...train1]);
    expect(typeof rows[1][2]).toBe('number');

    const sizes = new Map(trainBytes.map((b) => [sha256(b), b.byteLength]));
    const cdnGets = hub.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/cdn/'));
    const resolveGets = hub.requests.filter((r) => r.path.includes('/resolve/'));
    // Footer twice per file (check, then read) plus 3 row groups per file.
    expect(cdnGets.length).toBeGreaterThanOrEqual(2 * (2 + 3));
    expect(resolveGets.length).toBe(cdnGets.length);
    for (const r of [...cdnGets, ...resolveGets]) {
      expect(r.range).toMatch(/^bytes=\d+-\d+$/);
      expect(r.status).toBe(r.path.startsWith('/cdn/') ? 206 : 302);
    }
    for (const r of cdnGets) {
      const size = sizes.get(r.path.slice('/cdn/'.length).split('?')[0])!;
      const [a, b] = r.range!.slice('bytes='.length).split('-').map(Number);
      expect(b).toBeLessThan(size);
      // Never the whole file in one GET.
      expect(b - a + 1).toBeLessThan(size);
    }
    // Every read is pinned to the commit the listing saw.
    for (const r of resolveGets) expect(r.path).toMatch(/\/resolve\/[0-9a-f]{40}\//);
    expect(hub.requests.some((r) => r.status >= 400)).toBe(false);
  });

  it('gives the schema and a stable identity without reading rows', async () => {
    hub.requests.length = 0;
    const a = await readHubDatasetSchema(settings, { datasetId: 'acme/qa', split: 'train' });
    const b = await readHubDatasetSchema(settings, { datasetId: 'acme/qa', split: 'train', config: 'default' });
    const test = await readHubDatasetSchema(settings, { datasetId: 'acme/qa', split: 'test' });
    expect(a.schema.fields.map((f) => f.name)).toEqual(['record_id', 'text', 'n']);
    expect(a.rowCount).toBe(2400);
    expect(a.eTag).toBe(b.eTag);
    expect(a.eTag).not.toBe(test.eTag);
    // Only footer reads: one ranged GET per file (2 + 2 for train, 1 for test).
    expect(hub.requests.filter((r) => r.path.startsWith('/cdn/')).length).toBe(5);
    const other = await readHubDatasetSchema(settings, { datasetId: 'acme/qa', split: 'train', config: 'other' });
    expect(other.schema.fields.map((f) => [f.name, String(f.type)])).toEqual([['question', 'Utf8']]);
  });

  it('stops fetching when the consumer stops early', async () => {
    const ds = await openHubDataset(settings, { datasetId: 'acme/qa', split: 'train' });
    hub.requests.length = 0;
    let seen = 0;
    for await (const row of ds.rows) {
      expect(row[0]).toBe('r0');
      if (++seen === 1) break;
    }
    // The footer and the first row group of the first file, nothing of the second.
    const cdn = hub.requests.filter((r) => r.path.startsWith('/cdn/'));
    expect(cdn.length).toBeGreaterThan(0);
    expect(cdn.every((r) => r.path.includes(sha256(trainBytes[0])))).toBe(true);
  });
});

describe('ranged reads', () => {
  afterEach(() => hub.failNext(0, 503));

  it('retries a transient CDN failure', async () => {
    hub.requests.length = 0;
    hub.failNext(1, 503);
    const ds = await openHubDataset(settings, { datasetId: 'acme/qa', split: 'test' });
    expect(await collect(ds.rows)).toEqual(testRows);
    expect(hub.requests.filter((r) => r.status === 503).length).toBe(1);
  });

  it('gives up after three failed attempts, saying what it was reading, with an error Temporal retries (not an input error)', async () => {
    hub.failNext(3, 503);
    const err = await readHubDatasetSchema(settings, { datasetId: 'acme/qa', split: 'test' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientSourceError);
    expect(INPUT_ERROR_TYPES).not.toContain((err as Error).name);
    for (const part of ['default/test/0000.parquet', 'HTTP 503', `from ${hub.cdnEndpoint}/cdn/`, 'after 3 attempts']) expect((err as Error).message).toContain(part);
  });

  it('refuses a server that ignores Range (200 with the whole file)', async () => {
    await expectDatasetError(readHubDatasetSchema(settings, { datasetId: 'acme/norange', split: 'train' }), /expected 206 Partial Content, got 200/);
  });
});

describe('private datasets', () => {
  const ref = { datasetId: 'acme/private', split: 'train' };

  it('without HF_TOKEN: a 401 that says to set HF_TOKEN', async () => {
    await expectDatasetError(openHubDataset(settings, ref), '401', 'HF_TOKEN', 'acme/private');
    await expectDatasetError(readHubDatasetSchema(hubSettingsFromEnv({ HF_ENDPOINT: hub.endpoint }), ref), /authentication required/);
  });

  it('with a token the Hub refuses: says the token was refused', async () => {
    await expectDatasetError(listHubParquetFiles({ endpoint: hub.endpoint, token: 'hf_wrong' }, ref), /refused the token in HF_TOKEN/, '401');
  });

  it('with HF_TOKEN: reads, sending the token to the Hub but not to the CDN', async () => {
    hub.requests.length = 0;
    const withToken = hubSettingsFromEnv({ HF_ENDPOINT: hub.endpoint, HF_TOKEN: TOKEN });
    expect(withToken).toEqual({ endpoint: hub.endpoint, token: TOKEN });
    const ds = await openHubDataset(withToken, ref);
    expect(await collect(ds.rows)).toEqual(privateRows);
    const hubSide = hub.requests.filter((r) => !r.path.startsWith('/cdn/'));
    const cdnSide = hub.requests.filter((r) => r.path.startsWith('/cdn/'));
    expect(hubSide.length).toBeGreaterThan(0);
    expect(cdnSide.length).toBeGreaterThan(0);
    expect(hubSide.every((r) => r.authorized)).toBe(true);
    expect(cdnSide.some((r) => r.authorized)).toBe(false);
  });
});

describe('clear errors', () => {
  it('unknown dataset: not found (404)', async () => {
    await expectDatasetError(listHubParquetFiles(settings, { datasetId: 'acme/nope', split: 'train' }), /"acme\/nope" not found/, '404', hub.endpoint);
  });

  it('missing split: lists the splits that exist', async () => {
    const msg = await expectDatasetError(openHubDataset(settings, { datasetId: 'acme/qa', split: 'dev' }), 'no split "dev"', 'config "default"');
    expect(msg).toMatch(/available splits: .*\btest\b/);
    expect(msg).toMatch(/available splits: .*\btrain\b/);
    expect(msg).toContain('validation (partial)');
  });

  it('missing config: lists the configs that exist', async () => {
    await expectDatasetError(
      readHubDatasetSchema(settings, { datasetId: 'acme/qa', split: 'train', config: 'nope' }),
      'no config "nope"',
      'available configs: default, other',
    );
  });

  it('empty split: no rows, or no Parquet files at all', async () => {
    await expectDatasetError(openHubDataset(settings, { datasetId: 'acme/qa', split: 'empty' }), 'split "empty"', /empty \(0 rows/);
    await expectDatasetError(listHubParquetFiles(settings, { datasetId: 'acme/qa', split: 'nofiles' }), 'split "nofiles"', /no Parquet files/);
  });

  it('no Parquet conversion branch', async () => {
    await expectDatasetError(listHubParquetFiles(settings, { datasetId: 'acme/unconverted', split: 'train' }), /no Parquet conversion/, 'refs/convert/parquet');
  });

  it('an unreadable Parquet file is named', async () => {
    await expectDatasetError(
      readHubDatasetSchema(settings, { datasetId: 'acme/qa', split: 'broken' }),
      'hf://datasets/acme/qa@refs%2Fconvert%2Fparquet/default/broken/0000.parquet',
      'not a readable Parquet file',
    );
  });

  it('files of one split with different columns are refused, naming the odd one', async () => {
    await expectDatasetError(openHubDataset(settings, { datasetId: 'acme/qa', split: 'mixed' }), 'default/mixed/0001.parquet', /differ/);
  });

  it('bad names are refused before any request', async () => {
    hub.requests.length = 0;
    await expectDatasetError(listHubParquetFiles(settings, { datasetId: 'acme/qa', split: '../x' }), 'invalid split');
    await expectDatasetError(listHubParquetFiles(settings, { datasetId: 'not a/valid/id', split: 'train' }), 'owner/name');
    expect(hub.requests).toEqual([]);
  });

  it('a file rewritten after listing is detected by its ETag, and changes the dataset identity', async () => {
    const ref = { datasetId: 'acme/mutable', split: 'train' };
    const before = await readHubDatasetSchema(settings, ref);
    // Same size, one byte different: only the ETag tells.
    const rewritten = new Uint8Array(await (await fetch(`${hub.endpoint}/datasets/acme/mutable/resolve/refs/convert/parquet/default/train/0000.parquet`)).arrayBuffer());
    expect(rewritten.byteLength).toBe(before.files[0].size);
    rewritten[10] ^= 0xff;
    hub.setFile('acme/mutable', 'default/train/0000.parquet', rewritten);
    const blob = hubRangeBlob(settings, 'acme/mutable', before.files[0]);
    await expectDatasetError(blob.slice(0, 4).arrayBuffer(), /changed since it was listed \(ETag/, 'default/train/0000.parquet');
    const after = await readHubDatasetSchema(settings, ref);
    expect(after.eTag).not.toBe(before.eTag);
  });
});
