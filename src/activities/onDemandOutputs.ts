import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { listObjects, openObjectStream, parseS3Uri } from '../io/s3';
import { readLineBatches } from '../io/lineSplitter';

/** The `job_id` of rows answered on demand, so the output says which answers cost the on-demand price. */
export const ON_DEMAND_JOB_ID = 'on-demand';

// Billed tokens ride on each chunk object as metadata, so answers and their bill land in one atomic PUT.
const INPUT_TOKENS = 'input-tokens';
const OUTPUT_TOKENS = 'output-tokens';

export interface OnDemandChunk {
  /** Record ids in the order their lines appear. */
  recordIds: string[];
  /** Batch output lines (`{recordId, modelInput, modelOutput}` or `{recordId, modelInput, error}`). */
  lines: string[];
  inputTokens: number;
  outputTokens: number;
}

/**
 * Writes one chunk of answers as `<prefix><first record id>.jsonl.out`. A record is in at most one
 * chunk (answered ones are skipped on retry), so the name never clashes with another chunk's.
 */
export async function writeOnDemandChunk(s3: S3Client, prefix: string, chunk: OnDemandChunk): Promise<void> {
  const { bucket, key } = parseS3Uri(`${prefix}${encodeURIComponent(chunk.recordIds[0])}.jsonl.out`);
  const body = `${chunk.lines.join('\n')}\n`;
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentLength: Buffer.byteLength(body),
      ContentType: 'application/jsonl',
      Metadata: { [INPUT_TOKENS]: String(chunk.inputTokens), [OUTPUT_TOKENS]: String(chunk.outputTokens) },
    }),
  );
}

/** The chunk objects under a shard's on-demand prefix. */
export async function* onDemandChunkUris(s3: S3Client, prefix: string): AsyncGenerator<string> {
  for await (const object of listObjects(s3, prefix)) if (object.key.endsWith('.jsonl.out')) yield object.uri;
}

/** Record ids that already have a line (an answer or a rejection): a retried activity does not call for them again. */
export async function onDemandRecordIds(s3: S3Client, prefix: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const uri of onDemandChunkUris(s3, prefix)) {
    for await (const batch of readLineBatches((await openObjectStream(s3, uri)).body)) {
      for (const line of batch) if (line.length) ids.add(String((JSON.parse(line.toString('utf8')) as { recordId: unknown }).recordId));
    }
  }
  return ids;
}

/** Tokens billed for every chunk, from their metadata; undefined when a chunk has none. */
export async function onDemandBilledTokens(s3: S3Client, prefix: string): Promise<{ inputTokens: number; outputTokens: number } | undefined> {
  const total = { inputTokens: 0, outputTokens: 0 };
  for await (const uri of onDemandChunkUris(s3, prefix)) {
    const { bucket, key } = parseS3Uri(uri);
    const meta = (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).Metadata ?? {};
    const input = Number(meta[INPUT_TOKENS]);
    const output = Number(meta[OUTPUT_TOKENS]);
    if (meta[INPUT_TOKENS] === undefined || !Number.isFinite(input) || !Number.isFinite(output)) return undefined;
    total.inputTokens += input;
    total.outputTokens += output;
  }
  return total;
}
