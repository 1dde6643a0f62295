import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { parseS3Uri } from '../../src/io/s3';

const SCRIPT = `
import json, sys
import pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
print(json.dumps({"rows": t.num_rows, "columns": [[f.name, str(f.type)] for f in t.schema], "first": t.slice(0, 1).to_pylist()[0]}))
`;

export interface PyarrowView {
  rows: number;
  columns: Array<[string, string]>;
  first: Record<string, unknown>;
}

/** Reads a Parquet object with pyarrow, an independent reader, to check the files are standard. */
export async function readWithPyarrow(s3: S3Client, uri: string): Promise<PyarrowView> {
  const { bucket, key } = parseS3Uri(uri);
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const file = join(mkdtempSync(join(tmpdir(), 'pq-')), 'part.parquet');
  writeFileSync(file, await res.Body!.transformToByteArray());
  const python = process.env.PYTHON3 ?? process.env.MOTO_PYTHON ?? 'python3';
  return JSON.parse(execFileSync(python, ['-c', SCRIPT, file], { encoding: 'utf8' })) as PyarrowView;
}
