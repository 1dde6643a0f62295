import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import {
  createObjectWriter,
  ensureBucket,
  headObject,
  listObjects,
  openObjectStream,
  readObjectText,
  s3RangeBlob,
  writeObject,
} from '../../src/io/s3';
import { MotoS3, startMotoS3 } from './helpers';

const BUCKET = 'io-test';
const MiB = 1024 * 1024;
let env: MotoS3 & { stop(): Promise<void> };

beforeAll(async () => {
  env = await startMotoS3(BUCKET);
});
afterAll(async () => {
  await env?.stop();
});

async function readAll(uri: string): Promise<Buffer> {
  const { body } = await openObjectStream(env.s3, uri);
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('small objects', () => {
  it('writes and reads text and bytes', async () => {
    await writeObject(env.s3, `s3://${BUCKET}/small/a.json`, '{"ü":1}', 'application/json');
    expect(await readObjectText(env.s3, `s3://${BUCKET}/small/a.json`)).toBe('{"ü":1}');
    await writeObject(env.s3, `s3://${BUCKET}/small/b.bin`, new Uint8Array([0, 255, 7]));
    expect([...(await readAll(`s3://${BUCKET}/small/b.bin`))]).toEqual([0, 255, 7]);
    expect(await headObject(env.s3, `s3://${BUCKET}/small/b.bin`)).toEqual({ size: 3, eTag: expect.stringMatching(/^".+"$/) });
  });

  it('heads a missing object as undefined', async () => {
    expect(await headObject(env.s3, `s3://${BUCKET}/nope/missing.txt`)).toBeUndefined();
  });

  it('names the URI when opening or reading a missing object', async () => {
    const uri = `s3://${BUCKET}/nope/missing.txt`;
    await expect(openObjectStream(env.s3, uri)).rejects.toThrow(`S3 object not found: ${uri}`);
    await expect(readObjectText(env.s3, uri)).rejects.toThrow(uri);
  });

  it('ensureBucket is idempotent', async () => {
    await ensureBucket(env.s3, BUCKET);
    await ensureBucket(env.s3, 'io-test-second');
    await writeObject(env.s3, 's3://io-test-second/x', 'x');
    expect(await readObjectText(env.s3, 's3://io-test-second/x')).toBe('x');
  });
});

describe('createObjectWriter', () => {
  it('coalesces many small string and byte writes into exactly the bytes written', async () => {
    const uri = `s3://${BUCKET}/writer/lines.jsonl`;
    const w = createObjectWriter(env.s3, uri, { contentType: 'application/jsonl' });
    const expected: Buffer[] = [];
    for (let i = 0; i < 60_000; i++) {
      const line = JSON.stringify({ recordId: `r${i}`, text: i % 7 ? 'plain ascii' : 'ünïcødé 😀 \u2028' }) + '\n';
      await w.write(line);
      expected.push(Buffer.from(line));
      if (i % 10_000 === 0) {
        // Byte chunks, including one above the coalescing size that bypasses the buffer.
        const bytes = i === 30_000 ? Buffer.alloc(MiB + 17, 0x61) : Buffer.from([i & 0xff, 0x0a]);
        await w.write(bytes);
        expected.push(bytes);
      }
    }
    const bigString = 'é'.repeat(700_000); // 1.4 MB once encoded
    await w.write(bigString);
    expected.push(Buffer.from(bigString));
    const want = Buffer.concat(expected);
    const { bytes } = await w.close();
    expect(bytes).toBe(want.byteLength);
    const got = await readAll(uri);
    expect(got.byteLength).toBe(want.byteLength);
    expect(got.equals(want)).toBe(true);
  });

  it('uploads > 5 MiB as a multipart object with no aws-chunked framing stored', async () => {
    const uri = `s3://${BUCKET}/writer/big.bin`;
    const w = createObjectWriter(env.s3, uri, { partSize: 5 * MiB, queueSize: 2 });
    const hash = createHash('sha256');
    let written = 0;
    for (let i = 0; i < 12 * 64; i++) {
      const chunk = Buffer.alloc(16 * 1024, i % 251);
      chunk.writeUInt32LE(i, 0);
      hash.update(chunk);
      written += chunk.byteLength;
      await w.write(chunk);
    }
    expect(await w.close()).toEqual({ bytes: written });
    const head = await headObject(env.s3, uri);
    expect(head?.size).toBe(written);
    // Multipart ETags are md5-of-md5s suffixed with the part count: 12 MiB / 5 MiB = 3 parts.
    expect(head?.eTag).toMatch(/-3"$/);
    expect(createHash('sha256').update(await readAll(uri)).digest('hex')).toBe(hash.digest('hex'));
  });

  it('writes an empty object on close with no writes', async () => {
    const uri = `s3://${BUCKET}/writer/empty.txt`;
    expect(await createObjectWriter(env.s3, uri).close()).toEqual({ bytes: 0 });
    expect((await headObject(env.s3, uri))?.size).toBe(0);
  });

  it('abort leaves neither an object nor an open multipart upload', async () => {
    const uri = `s3://${BUCKET}/writer/aborted.bin`;
    const w = createObjectWriter(env.s3, uri, { partSize: 5 * MiB, queueSize: 1 });
    for (let i = 0; i < 7; i++) await w.write(Buffer.alloc(MiB, 1));
    await w.abort();
    await expect(w.write('more')).rejects.toThrow(/aborted/);
    expect(await headObject(env.s3, uri)).toBeUndefined();
    const uploads = await env.s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'writer/aborted' }));
    expect(uploads.Uploads ?? []).toHaveLength(0);
  });

  it('surfaces an upload failure with the URI', async () => {
    const uri = 's3://no-such-bucket-io/x.bin';
    const w = createObjectWriter(env.s3, uri, { partSize: 5 * MiB });
    const attempt = (async () => {
      for (let i = 0; i < 20; i++) await w.write(Buffer.alloc(MiB, 2));
      await w.close();
    })();
    await expect(attempt).rejects.toThrow(uri);
  });
});

describe('listObjects', () => {
  it('follows continuation tokens across pages and respects the prefix', async () => {
    const keys = Array.from({ length: 23 }, (_, i) => `list/p/${String(i).padStart(3, '0')}.txt`);
    await Promise.all(keys.map((k, i) => writeObject(env.s3, `s3://${BUCKET}/${k}`, 'x'.repeat(i))));
    await writeObject(env.s3, `s3://${BUCKET}/list/other.txt`, 'no');
    const seen = [];
    for await (const o of listObjects(env.s3, `s3://${BUCKET}/list/p/`, { pageSize: 5 })) seen.push(o);
    expect(seen.map((o) => o.key)).toEqual(keys);
    expect(seen.map((o) => o.size)).toEqual(keys.map((_, i) => i));
    expect(seen[3].uri).toBe(`s3://${BUCKET}/${keys[3]}`);
  });

  it('yields nothing for an empty prefix', async () => {
    const seen = [];
    for await (const o of listObjects(env.s3, `s3://${BUCKET}/list/none/`)) seen.push(o);
    expect(seen).toEqual([]);
  });
});

describe('s3RangeBlob', () => {
  const uri = `s3://${BUCKET}/range/data.bin`;
  const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff));

  beforeAll(async () => {
    await writeObject(env.s3, uri, data);
  });

  const bytesOf = async (b: { arrayBuffer(): Promise<ArrayBuffer> }) => Buffer.from(await b.arrayBuffer());

  it('returns exact bytes for slices, nested slices and Blob-style negative indexes', async () => {
    const blob = s3RangeBlob(env.s3, uri, data.byteLength);
    expect(blob.size).toBe(1000);
    expect((await bytesOf(blob.slice(10, 20))).equals(data.subarray(10, 20))).toBe(true);
    expect((await bytesOf(blob.slice(992))).equals(data.subarray(992))).toBe(true);
    expect((await bytesOf(blob.slice(-8))).equals(data.subarray(992))).toBe(true);
    const inner = blob.slice(100, 600).slice(50, 60);
    expect(inner.size).toBe(10);
    expect((await bytesOf(inner)).equals(data.subarray(150, 160))).toBe(true);
    expect((await bytesOf(blob)).equals(data)).toBe(true);
  });

  it('clamps out-of-range slices and reads empty ranges without a request', async () => {
    const blob = s3RangeBlob(env.s3, uri, data.byteLength);
    expect(blob.slice(990, 5000).size).toBe(10);
    expect(blob.slice(50, 10).size).toBe(0);
    expect((await blob.slice(50, 10).arrayBuffer()).byteLength).toBe(0);
  });

  it('returns a real ArrayBuffer', async () => {
    const ab = await s3RangeBlob(env.s3, uri, data.byteLength).slice(0, 4).arrayBuffer();
    expect(ab).toBeInstanceOf(ArrayBuffer);
    expect(ab.byteLength).toBe(4);
  });

  it('fails when the object changed since it was sized (eTag pin)', async () => {
    const pinned = `s3://${BUCKET}/range/pinned.bin`;
    await writeObject(env.s3, pinned, 'version one');
    const head = await headObject(env.s3, pinned);
    const blob = s3RangeBlob(env.s3, pinned, head!.size, { eTag: head!.eTag });
    expect(Buffer.from(await blob.slice(0, 7).arrayBuffer()).toString()).toBe('version');
    await writeObject(env.s3, pinned, 'VERSION TWO');
    await expect(blob.slice(0, 7).arrayBuffer()).rejects.toThrow(/object changed since it was opened/);
  });
});
