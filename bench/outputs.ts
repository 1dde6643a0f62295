/**
 * Bedrock-shaped batch outputs for shards that preprocessing wrote: for each shard, the input
 * JSONL is read back from S3 and every line becomes `{recordId, modelInput, modelOutput}` (or
 * `{recordId, modelInput, error}` for ~0.1% of records), shuffled as Bedrock does not keep order,
 * and written where collectShard looks: `<runUri>/bedrock-output/shard-NNNNN/<jobId>/shard-NNNNN.jsonl.out`
 * plus `manifest.json.out`. Setup only: this is not what the benchmark measures.
 */
import { createInterface } from 'node:readline';
import type { S3Client } from '@aws-sdk/client-s3';
import { createObjectWriter, openObjectStream, writeObject } from '../src/io/s3';
import { shardPaths } from '../src/shared/paths';
import { MiB, ShardInfo } from './common';
import { Prng, buildCorpus, cut } from './textgen';

export interface OutputSpec {
  runUri: string;
  shards: ShardInfo[];
  kind: 'text' | 'embedding';
  /** Titan V2 answers carry the vector twice (`embedding` and `embeddingsByType.float`), as the emulator does. */
  embeddingsByType: boolean;
  dimensions: number;
}

export interface OutputsWritten {
  jobIds: string[];
  lines: number;
  errorLines: number;
  bytes: number;
  seconds: number;
}

const ERROR_EVERY = 1000;
/**
 * Distinct vectors. Real embeddings never repeat, so Parquet's dictionary encoding gives up after
 * its 1 MiB dictionary page; a pool of 64 vectors (65,536 distinct floats) kept it going for the
 * whole file and cost the writer 2.6× the CPU of real data. 1024 vectors (1M distinct floats per
 * 1024-d row group) behave like real data and still format in about a second.
 */
const VECTOR_POOL = 1024;
const BY_TYPE = Buffer.from(',"embeddingsByType":{"float":');

export function jobIdFor(runUri: string, shard: number): string {
  const rng = new Prng(`${runUri}#${shard}`);
  const abc = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length: 12 }, () => abc[rng.int(abc.length)]).join('');
}

export const jobArnOf = (jobId: string) => `arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/${jobId}`;

/** ~300-character Claude answers, in the Messages response shape Bedrock returns for InvokeModel. */
function claudeOutput(rng: Prng, corpus: string, promptChars: number): { json: string; inTok: number; outTok: number } {
  const text = `<thinking>${cut(corpus, rng, rng.lognormal(220, 0.45, 20, 3000))}</thinking>\n<answer>${cut(corpus, rng, rng.lognormal(30, 0.7, 1, 400))}</answer>`;
  const inTok = Math.ceil(promptChars / 4) + 12;
  const outTok = Math.ceil(text.length / 4);
  const id = `msg_bdrk_01${Math.floor(rng.next() * 2 ** 52).toString(36)}${Math.floor(rng.next() * 2 ** 52).toString(36)}`;
  const json = JSON.stringify({
    id,
    type: 'message',
    role: 'assistant',
    model: 'claude-3-haiku-20240307',
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: inTok, output_tokens: outTok },
  });
  return { json, inTok, outTok };
}

/** Unit vectors printed as Titan prints float32s (~9 significant digits). A pool: formatting 10^9 floats would dominate setup. */
export function vectorPool(rng: Prng, dims: number, count: number): Buffer[] {
  const pool: Buffer[] = [];
  for (let v = 0; v < count; v++) {
    const xs = Array.from({ length: dims }, () => rng.normal());
    const norm = Math.sqrt(xs.reduce((s, x) => s + x * x, 0));
    pool.push(Buffer.from(`[${xs.map((x) => String(Number(Math.fround(x / norm).toPrecision(9)))).join(',')}]`));
  }
  return pool;
}

function shuffle<T>(items: T[], rng: Prng): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
}

export async function writeBedrockOutputs(s3: S3Client, spec: OutputSpec, log: (msg: string) => void): Promise<OutputsWritten> {
  const started = Date.now();
  const rng = new Prng(`outputs:${spec.runUri}`);
  const corpus = spec.kind === 'text' ? buildCorpus(rng, 16 * MiB) : '';
  const pool = spec.kind === 'embedding' ? vectorPool(rng, spec.dimensions, VECTOR_POOL) : [];
  const result: OutputsWritten = { jobIds: [], lines: 0, errorLines: 0, bytes: 0, seconds: 0 };
  for (const shard of spec.shards) {
    const paths = shardPaths(spec.runUri, shard.index);
    const jobId = jobIdFor(spec.runUri, shard.index);
    result.jobIds.push(jobId);
    // The shard's input JSONL as preprocessing named it (parts name their own shards; see shards.json).
    const { body } = await openObjectStream(s3, shard.jsonlUri);
    // Text lines are kept as strings; embedding lines as (head, vector index, tokens) and written as
    // Buffers, since ~28 KB strings a line would make setup slower than the stage it feeds.
    const lines: Array<string | [string, number, number]> = [];
    let inputTokens = 0;
    let outputTokens = 0;
    let errors = 0;
    for await (const line of createInterface({ input: body, crlfDelay: Infinity })) {
      if (!line) continue;
      // `{"recordId":"…","modelInput":{…}}` → same object plus modelOutput (or error), as Bedrock writes it.
      const head = line.slice(0, -1);
      if ((lines.length + shard.index) % ERROR_EVERY === ERROR_EVERY - 1) {
        errors++;
        lines.push(`${head},"error":{"errorCode":400,"errorMessage":"Malformed input request: #: extraneous key [bench] is not permitted, please reformat your input and try again."}}`);
        continue;
      }
      if (spec.kind === 'text') {
        const out = claudeOutput(rng, corpus, line.length - 150);
        inputTokens += out.inTok;
        outputTokens += out.outTok;
        lines.push(`${head},"modelOutput":${out.json}}`);
      } else {
        const tokens = Math.ceil((line.length - 60) / 4);
        inputTokens += tokens;
        lines.push([head, rng.int(pool.length), tokens]);
      }
    }
    if (lines.length !== shard.records) throw new Error(`shard ${shard.index}: ${lines.length} input lines, expected ${shard.records}`);
    shuffle(lines, rng);
    const name = shard.jsonlUri.slice(shard.jsonlUri.lastIndexOf('/') + 1);
    const writer = createObjectWriter(s3, `${paths.bedrockOutput}${jobId}/${name}.out`, { partSize: 64 * MiB, queueSize: 2 });
    let chunk = '';
    for (const line of lines) {
      if (typeof line === 'string') {
        chunk += `${line}\n`;
        if (chunk.length >= 4 * MiB) {
          await writer.write(chunk);
          chunk = '';
        }
        continue;
      }
      const [head, v, tokens] = line;
      chunk += `${head},"modelOutput":{"embedding":`;
      await writer.write(chunk);
      chunk = '';
      await writer.write(pool[v]);
      if (spec.embeddingsByType) {
        await writer.write(BY_TYPE);
        await writer.write(pool[v]);
        chunk += '}';
      }
      chunk += `,"inputTextTokenCount":${tokens}}}\n`;
    }
    await writer.write(chunk);
    const { bytes } = await writer.close();
    const manifest = {
      totalRecordCount: lines.length,
      processedRecordCount: lines.length,
      successRecordCount: lines.length - errors,
      errorRecordCount: errors,
      inputTokenCount: inputTokens,
      outputTokenCount: outputTokens,
    };
    await writeObject(s3, `${paths.bedrockOutput}${jobId}/manifest.json.out`, JSON.stringify(manifest), 'application/json');
    result.lines += lines.length;
    result.errorLines += errors;
    result.bytes += bytes;
    log(`  outputs shard ${shard.index}: ${lines.length} lines, ${(bytes / MiB).toFixed(0)} MiB`);
  }
  result.seconds = (Date.now() - started) / 1000;
  return result;
}
