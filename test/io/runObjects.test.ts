import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { deleteRunObjects, listRunObjects } from '../../src/activities/runObjects';
import { writeObject } from '../../src/io/s3';
import { listKeys } from '../support/output';
import { MotoS3, startMotoS3 } from './helpers';

const BUCKET = 'run-objects';
const RUN = `s3://${BUCKET}/out/0123456789abcdef`;
let env: MotoS3 & { stop(): Promise<void> };

beforeAll(async () => {
  env = await startMotoS3(BUCKET);
}, 60_000);
afterAll(async () => {
  await env?.stop();
});

async function writeAll(uris: string[]): Promise<void> {
  for (let i = 0; i < uris.length; i += 50) await Promise.all(uris.slice(i, i + 50).map((u) => writeObject(env.s3, u, 'x')));
}

test('deletes the picked entries of a run in DeleteObjects batches of at most 1,000 keys, and nothing else', async () => {
  const staging = Array.from({ length: 1205 }, (_, i) => `${RUN}/bedrock-output/shard-${String(i).padStart(5, '0')}/x.out`);
  const kept = [`${RUN}/output/part-00000-000.parquet`, `${RUN}/summary.json`, `${RUN}0/shards.json`];
  await writeAll([...staging, `${RUN}/shards.json`, ...kept]);

  const listed = await listRunObjects(env.s3, RUN);
  expect(listed.entries).toEqual({
    'bedrock-output/': { objects: 1205, bytes: 1205 },
    'output/': { objects: 1, bytes: 1 },
    'shards.json': { objects: 1, bytes: 1 },
    'summary.json': { objects: 1, bytes: 1 },
  });

  const batches: number[] = [];
  const send = env.s3.send.bind(env.s3);
  const spy = jest.spyOn(env.s3, 'send').mockImplementation(((command: unknown) => {
    if (command instanceof DeleteObjectsCommand) batches.push(command.input.Delete!.Objects!.length);
    return send(command as never);
  }) as never);
  try {
    const deleted = await deleteRunObjects(env.s3, RUN, (e) => e === 'bedrock-output/' || e === 'shards.json');
    expect(deleted.objects).toBe(1206);
  } finally {
    spy.mockRestore();
  }
  expect(batches).toEqual([1000, 206]);
  expect((await listKeys(env.s3, `s3://${BUCKET}/`)).map((k) => `s3://${BUCKET}/${k}`).sort()).toEqual([...kept].sort());
}, 120_000);
