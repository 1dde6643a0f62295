import { S3Client } from '@aws-sdk/client-s3';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { asActivityFailure } from '../../src/activities/failures';
import { openSource, readSourceSchema } from '../../src/io/dataset';
import { listHubParquetFiles } from '../../src/io/huggingface';
import { TransientSourceError } from '../../src/io/sourceErrors';
import { INPUT_ERROR_TYPES } from '../../src/shared/errors';

/**
 * S3 and the Hub having a bad minute (503, 429, a reset connection) is not the input's fault: after the
 * clients' own retries the error is a TransientSourceError naming the object or URL and the status, which
 * Temporal retries, never an input error that fails the run at once.
 */

type Answer = (req: IncomingMessage, res: ServerResponse) => void;
let answer: Answer;
let server: Server;
let endpoint: string;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    answer(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  seen.length = 0;
});

const slowDown: Answer = (req, res) => {
  res.writeHead(503, { 'Content-Type': 'application/xml' });
  res.end(
    req.method === 'HEAD'
      ? undefined
      : '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>R1</RequestId></Error>',
  );
};
const resetConnection: Answer = (req) => req.socket.destroy();
/** HEAD succeeds (the object exists), GET gets `get`. */
const headOkThen =
  (get: Answer): Answer =>
  (req, res) => {
    if (req.method !== 'HEAD') return get(req, res);
    res.writeHead(200, { 'Content-Length': '5000', ETag: '"abc"', 'Last-Modified': new Date(0).toUTCString() });
    res.end();
  };

function expectRetryable(err: unknown, ...parts: string[]): void {
  expect(err).toBeInstanceOf(TransientSourceError);
  expect(INPUT_ERROR_TYPES).not.toContain((err as Error).name);
  // The activity rethrows it as is: Temporal retries it.
  expect(asActivityFailure(err)).toBe(err);
  for (const p of parts) expect((err as Error).message).toContain(p);
}

describe('S3', () => {
  let s3: S3Client;
  beforeAll(() => {
    // One attempt per SDK call keeps the test fast; the app's own range retries still run.
    s3 = new S3Client({
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  });
  afterAll(() => s3.destroy());
  const clients = () => ({ s3, hub: { endpoint: 'http://127.0.0.1:9' } });

  it("a Parquet footer read answered 503 SlowDown is retryable, not 'not a readable Parquet file'", async () => {
    answer = headOkThen(slowDown);
    const uri = 's3://data/table.parquet';
    const err = await readSourceSchema(clients(), { s3Uri: uri }).catch((e: unknown) => e);
    expectRetryable(err, `GetObject ${uri} bytes=0-4999`, 'HTTP 503', 'SlowDown', 'Please reduce your request rate.');
    expect(seen.filter((s) => s.startsWith('GET')).length).toBe(3); // the range read's own attempts
    await expect(openSource(clients(), { s3Uri: uri })).rejects.toBeInstanceOf(TransientSourceError);
  });

  it('a HEAD answered 503, or a reset connection, on a CSV names the object', async () => {
    answer = slowDown;
    expectRetryable(await readSourceSchema(clients(), { s3Uri: 's3://data/rows.csv' }).catch((e: unknown) => e), 'HeadObject s3://data/rows.csv', 'HTTP 503');
    answer = headOkThen(resetConnection);
    expectRetryable(await readSourceSchema(clients(), { s3Uri: 's3://data/rows.csv' }).catch((e: unknown) => e), 'GetObject s3://data/rows.csv', 'socket hang up');
  });

  it('a CSV whose download breaks off mid-way names the object', async () => {
    answer = headOkThen((_req, res) => {
      res.writeHead(200, { 'Content-Length': '100000', ETag: '"abc"' });
      res.write('id,text\n' + '1,hello\n'.repeat(1000));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const opened = await openSource(clients(), { s3Uri: 's3://data/rows.csv' });
    const drain = async () => {
      for await (const _ of opened.rows);
    };
    expectRetryable(await drain().catch((e: unknown) => e), 'reading s3://data/rows.csv');
  });
});

describe('Hugging Face Hub', () => {
  const hub = () => ({ endpoint });
  const ref = { datasetId: 'acme/qa', split: 'train' };
  const revisionUrl = () => `${endpoint}/api/datasets/acme/qa/revision/refs%2Fconvert%2Fparquet?expand=sha`;

  it('503 on every attempt: retryable, naming the URL and the status', async () => {
    answer = (_req, res) => {
      res.writeHead(503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: 'The Hub is overloaded' }));
    };
    const err = await listHubParquetFiles(hub(), ref).catch((e: unknown) => e);
    expectRetryable(err, revisionUrl(), 'HTTP 503', 'The Hub is overloaded', 'after 3 attempts');
    expect((err as TransientSourceError).status).toBe(503);
    expect(seen).toHaveLength(3);
  });

  it('429 and reset connections too', async () => {
    answer = (_req, res) => {
      res.writeHead(429, { 'Retry-After': '1' });
      res.end('Too Many Requests');
    };
    expectRetryable(await listHubParquetFiles(hub(), ref).catch((e: unknown) => e), revisionUrl(), 'HTTP 429');
    answer = resetConnection;
    expectRetryable(await listHubParquetFiles(hub(), ref).catch((e: unknown) => e), revisionUrl(), 'after 3 attempts');
  });

  it('a 404 is still an input error', async () => {
    answer = (_req, res) => {
      res.writeHead(404, { 'X-Error-Code': 'RepoNotFound', 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: 'Repository not found' }));
    };
    const err = await listHubParquetFiles(hub(), ref).catch((e: unknown) => e);
    expect((err as Error).name).toBe('DatasetError');
    expect(INPUT_ERROR_TYPES).toContain((err as Error).name);
    expect(seen).toHaveLength(1);
  });
});
