import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { findTemporalBinary, startMotoServer, startTemporalDevServer, MotoServer, TemporalDevServer } from '../../src/localstack';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('local stack', () => {
  let temporal: TemporalDevServer | undefined;
  let moto: MotoServer | undefined;
  let connection: Connection | undefined;

  afterAll(async () => {
    await connection?.close();
    await Promise.all([temporal?.stop(), moto?.stop()]);
  });

  test('finds the temporal CLI', () => {
    expect(findTemporalBinary()).toMatch(/temporal$/);
  });

  test('temporal dev server and moto S3 start, serve and stop', async () => {
    [temporal, moto] = await Promise.all([
      startTemporalDevServer({
        searchAttributes: { BatchRunKey: 'Keyword', ShardCount: 'Int' },
        dynamicConfig: { 'limit.maxIDLength': 255 },
      }),
      startMotoServer(),
    ]);
    expect(temporal.address).toBe(`127.0.0.1:${temporal.port}`);
    expect(temporal.namespace).toBe('default');
    expect(temporal.uiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    // Temporal: a workflow-service call and the registered search attributes
    connection = await Connection.connect({ address: temporal.address });
    const info = await connection.workflowService.getSystemInfo({});
    expect(info.serverVersion).toBeTruthy();
    const client = new Client({ connection, namespace: temporal.namespace });
    const listed = [];
    for await (const wf of client.workflow.list({ query: `WorkflowType = 'nothing'` })) listed.push(wf);
    expect(listed).toEqual([]);
    const attrs = await connection.operatorService.listSearchAttributes({ namespace: temporal.namespace });
    expect(Object.keys(attrs.customAttributes ?? {})).toEqual(expect.arrayContaining(['BatchRunKey', 'ShardCount']));
    const ui = await fetch(temporal.uiUrl!);
    expect(ui.status).toBeLessThan(500);

    // S3 through moto
    const s3 = new S3Client({
      endpoint: moto.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'stack-test' }));
    await s3.send(new PutObjectCommand({ Bucket: 'stack-test', Key: 'in/rows.jsonl', Body: '{"a":1}\n{"a":2}\n' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'stack-test', Key: 'in/rows.jsonl' }));
    expect(await got.Body!.transformToString()).toBe('{"a":1}\n{"a":2}\n');
    s3.destroy();

    // stop both; their ports close
    await connection.close();
    connection = undefined;
    const uiPort = Number(new URL(temporal.uiUrl!).port);
    await Promise.all([temporal.stop(), moto.stop()]);
    expect(await portOpen(temporal.port)).toBe(false);
    expect(await portOpen(uiPort)).toBe(false);
    expect(await portOpen(moto.port)).toBe(false);
    await temporal.stop(); // idempotent
  });

  test('a db-filename server keeps workflow history and gains new search attributes across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'temporal-db-'));
    const dbFilename = join(dir, 'temporal.db');
    let server: TemporalDevServer | undefined;
    let conn: Connection | undefined;
    try {
      server = await startTemporalDevServer({ dbFilename, uiPort: false, namespace: 'batch', searchAttributes: { BatchRunKey: 'Keyword' } });
      expect(server.uiUrl).toBeUndefined();
      conn = await Connection.connect({ address: server.address });
      const client = new Client({ connection: conn, namespace: 'batch' });
      const handle = await client.workflow.start('noWorkerHere', { taskQueue: 'no-worker', workflowId: 'persisted-wf', args: [] });
      await handle.terminate('test over');
      await conn.close();
      conn = undefined;
      const port = server.port;
      await server.stop();

      // same port, same file; a search attribute the existing namespace lacks gets registered
      server = await startTemporalDevServer({
        dbFilename,
        port,
        uiPort: false,
        namespace: 'batch',
        searchAttributes: { BatchRunKey: 'Keyword', ShardCount: 'Int' },
      });
      conn = await Connection.connect({ address: server.address });
      const again = new Client({ connection: conn, namespace: 'batch' });
      const desc = await again.workflow.getHandle('persisted-wf').describe();
      expect(desc.status.name).toBe('TERMINATED');
      const history = await again.workflow.getHandle('persisted-wf').fetchHistory();
      expect(history.events?.length).toBeGreaterThan(1);
      const attrs = await conn.operatorService.listSearchAttributes({ namespace: 'batch' });
      expect(attrs.customAttributes).toMatchObject({ BatchRunKey: 2, ShardCount: 3 });
    } finally {
      await conn?.close();
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
