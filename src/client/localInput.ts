import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { createObjectWriter, headObject } from '../io/s3';
import { RunInput } from '../shared/types';

/** What clients accept: a run whose dataset may also be a local CSV file, uploaded before the start. */
export type ClientRunInput = Omit<RunInput, 'input'> & { input: RunInput['input'] | { file: string } };

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Uploads a local dataset under `<outputUri>/inputs/<sha256>/<name>` and returns the run input
 * pointing at it. The key is the content's hash, so the same file maps to the same object (and
 * the same ETag, hence the same run key and reused jobs); an existing object is not re-sent.
 */
export async function resolveLocalInput(s3: S3Client, input: ClientRunInput): Promise<RunInput> {
  if (!('file' in input.input)) return input as RunInput;
  const path = input.input.file;
  if (!/\.(csv|parquet)$/i.test(path)) throw new Error(`input.file must be a .csv or .parquet file, got ${path}`);
  const digest = await sha256OfFile(path).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`cannot read input.file ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  const s3Uri = `${input.outputUri.replace(/\/+$/, '')}/inputs/${digest}/${basename(path)}`;
  if (!(await headObject(s3, s3Uri))) {
    const writer = createObjectWriter(s3, s3Uri, { contentType: 'text/csv' });
    try {
      for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) await writer.write(chunk as Buffer);
      await writer.close();
    } catch (err) {
      await writer.abort();
      throw err;
    }
  }
  return { ...input, input: { s3Uri } };
}
