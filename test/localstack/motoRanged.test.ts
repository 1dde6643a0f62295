/**
 * The ranged moto (scripts/moto_ranged.py, startMotoServer's default) against the real SDK: it
 * sends GetObject bodies from the object's file instead of moto's whole-object copy, so every
 * kind of range must still return exactly S3's bytes, status and Content-Range.
 */
import { randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { MotoServer, startMotoServer } from '../../src/localstack';
import { createS3Client, ensureBucket } from '../../src/io/s3';

const BUCKET = 'ranged';
const MiB = 1024 * 1024;
// Over moto's ~5 MB in-memory limit, so the object lives in a temporary file (the lazy path).
const big = randomBytes(12 * MiB + 12_345);

describe('ranged moto server', () => {
  let moto: MotoServer;
  let s3: S3Client;

  beforeAll(async () => {
    moto = await startMotoServer({ ranged: true });
    s3 = createS3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await ensureBucket(s3, BUCKET);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'big.bin', Body: big }));
  });

  afterAll(async () => {
    s3?.destroy();
    await moto?.stop();
  });

  async function get(key: string, range?: string) {
    const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: range }));
    return { body: Buffer.from(await out.Body!.transformToByteArray()), contentRange: out.ContentRange, length: out.ContentLength, status: out.$metadata.httpStatusCode };
  }

  test('is the ranged server', () => {
    expect(moto.ranged).toBe(true);
  });

  test.each([
    ['first bytes', 'bytes=0-99', 0, 99],
    ['a middle range across 4 MiB chunks', `bytes=${3 * MiB + 7}-${9 * MiB + 3}`, 3 * MiB + 7, 9 * MiB + 3],
    ['an open-ended range', `bytes=${10 * MiB}-`, 10 * MiB, big.length - 1],
    ['a suffix range', 'bytes=-1000', big.length - 1000, big.length - 1],
    ['the last byte', `bytes=${big.length - 1}-${big.length - 1}`, big.length - 1, big.length - 1],
    ['an end past the object (clamped)', `bytes=${big.length - 10}-${big.length + 500}`, big.length - 10, big.length - 1],
  ])('%s: 206, Content-Range and exactly those bytes', async (_name, range, first, last) => {
    const got = await get('big.bin', range);
    expect(got.status).toBe(206);
    expect(got.contentRange).toBe(`bytes ${first}-${last}/${big.length}`);
    expect(got.length).toBe(last - first + 1);
    expect(got.body.equals(big.subarray(first, last + 1))).toBe(true);
  });

  test('a range starting past the end is 416 InvalidRange', async () => {
    await expect(get('big.bin', `bytes=${big.length}-`)).rejects.toMatchObject({ name: 'InvalidRange', $metadata: { httpStatusCode: 416 } });
  });

  test('whole-object GET and HEAD', async () => {
    const got = await get('big.bin');
    expect(got.status).toBe(200);
    expect(got.body.equals(big)).toBe(true);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'big.bin' }));
    expect(head.ContentLength).toBe(big.length);
    expect(head.ETag).toMatch(/^"[0-9a-f]{32}"$/);
  });

  test('a small (in-memory) object: whole and ranged', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'small.txt', Body: 'hello, ranged world' }));
    expect((await get('small.txt')).body.toString()).toBe('hello, ranged world');
    const got = await get('small.txt', 'bytes=7-12');
    expect([got.status, got.contentRange, got.body.toString()]).toEqual([206, 'bytes 7-12/19', 'ranged']);
  });

  test('an object overwritten while it is being sent is still sent whole, as S3 does', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'moving.bin', Body: big }));
    const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'moving.bin' }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'moving.bin', Body: 'replaced' }));
    expect(Buffer.from(await out.Body!.transformToByteArray()).equals(big)).toBe(true);
    expect((await get('moving.bin')).body.toString()).toBe('replaced');
  });

  test('multipart upload, copy, list and delete work as before', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp.bin' }));
    // two parts in temporary files, and a last one small enough for moto to keep in memory
    const parts = [big.subarray(0, 6 * MiB), big.subarray(6 * MiB, 12 * MiB), big.subarray(12 * MiB)];
    const etags = await Promise.all(
      parts.map((Body, i) => s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'mp.bin', UploadId, PartNumber: i + 1, Body })).then((r) => r.ETag!)),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp.bin', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
    );
    expect((await get('mp.bin')).body.equals(big)).toBe(true);
    for (const boundary of [6 * MiB, 12 * MiB]) {
      const across = await get('mp.bin', `bytes=${boundary - 5}-${boundary + 4}`);
      expect(across.body.equals(big.subarray(boundary - 5, boundary + 5))).toBe(true);
    }

    await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy.bin', CopySource: `${BUCKET}/mp.bin` }));
    expect((await get('copy.bin')).body.equals(big)).toBe(true);

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    expect(listed.Contents?.find((o) => o.Key === 'copy.bin')?.Size).toBe(big.length);
    await s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: 'mp.bin' }, { Key: 'copy.bin' }] } }));
    const after = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    expect(after.Contents?.map((o) => o.Key)).not.toContain('copy.bin');
  });
});
