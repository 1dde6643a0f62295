/** Shared by the benchmark's parent (run.ts) and its stage processes (stage.ts). */
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import * as pw from 'parquet-wasm';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT, loadRunDefaults } from '../src/config';
import { headObject } from '../src/io/s3';
import type { ResolvedRun } from '../src/shared/types';

export const BUCKET = 'bench';
export const REGION = 'us-east-1';
export const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
export const TEXT_MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';
export const EMBED_MODEL = 'amazon.titan-embed-text-v2:0';
export const MAX_RECORDS_PER_JOB = 50_000;
export const MiB = 1024 * 1024;

export interface ShardInfo {
  index: number;
  records: number;
  bytes: number;
  jsonlUri: string;
}

/** The run a stage works on, built by hand as resolveRun would (see src/shared/types.ts). */
export function textRun(opts: { inputUri: string; eTag: string; runKey: string; columns: string[] }): ResolvedRun {
  return {
    ...loadRunDefaults(),
    runKey: opts.runKey,
    runName: 'bench',
    task: 'text',
    inputUri: opts.inputUri,
    source: { s3Uri: opts.inputUri },
    inputETag: opts.eTag,
    promptId: 'question_answering',
    // ~1.1 KB of instructions around the row, as real QA prompts (issue 11); templates/question_answering.txt is 162 B.
    template: readFileSync(resolve(REPO_ROOT, 'bench/templates/question_answering_long.txt'), 'utf8'),
    modelId: TEXT_MODEL,
    invocationType: 'InvokeModel',
    modelParams: {},
    runUri: `s3://${BUCKET}/runs/${opts.runKey}`,
    roleArn: 'arn:aws:iam::123456789012:role/BedrockBatchRole',
    maxRecordsPerJob: MAX_RECORDS_PER_JOB,
    columns: opts.columns,
  };
}

export function embedRun(opts: { inputUri: string; eTag: string; runKey: string; columns: string[] }): ResolvedRun {
  return {
    ...loadRunDefaults(),
    runKey: opts.runKey,
    runName: 'bench',
    task: 'embedding',
    inputUri: opts.inputUri,
    source: { s3Uri: opts.inputUri },
    inputETag: opts.eTag,
    textColumn: 'input_text',
    modelId: EMBED_MODEL,
    invocationType: 'InvokeModel',
    modelParams: {},
    runUri: `s3://${BUCKET}/runs/${opts.runKey}`,
    roleArn: 'arn:aws:iam::123456789012:role/BedrockBatchRole',
    maxRecordsPerJob: MAX_RECORDS_PER_JOB,
    columns: opts.columns,
  };
}

/** Per-command request counts and bytes, counted by a middleware on the stage's own S3 client. */
export interface S3Stats {
  requests: Record<string, number>;
  bytesIn: number;
  bytesOut: number;
  /** Called as each request starts (not serialised into the report). */
  onRequest?: (command: string, input: Record<string, unknown>) => void;
}

export function instrumentS3(s3: S3Client): S3Stats {
  const stats: S3Stats = { requests: {}, bytesIn: 0, bytesOut: 0 };
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String((context as { commandName?: string }).commandName ?? 'unknown').replace(/Command$/, '');
      stats.requests[name] = (stats.requests[name] ?? 0) + 1;
      stats.onRequest?.(name, args.input as Record<string, unknown>);
      const body = (args.input as { Body?: unknown }).Body;
      if (body instanceof Uint8Array) stats.bytesOut += body.byteLength;
      else if (typeof body === 'string') stats.bytesOut += Buffer.byteLength(body);
      const out = await next(args);
      if (name === 'GetObject') stats.bytesIn += Number((out.output as { ContentLength?: number }).ContentLength ?? 0);
      return out;
    },
    { step: 'initialize', name: 'benchStats' },
  );
  return stats;
}

/** Peaks of process.memoryUsage() fields and of parquet-wasm's linear memory, sampled every 200 ms. */
export class MemorySampler {
  readonly peak = { rss: 0, heapUsed: 0, external: 0, arrayBuffers: 0, wasm: 0 };
  private readonly timer: NodeJS.Timeout;
  constructor() {
    this.sample();
    this.timer = setInterval(() => this.sample(), 200);
    this.timer.unref();
  }
  sample(): void {
    const m = process.memoryUsage();
    const p = this.peak;
    p.rss = Math.max(p.rss, m.rss);
    p.heapUsed = Math.max(p.heapUsed, m.heapUsed);
    p.external = Math.max(p.external, m.external);
    p.arrayBuffers = Math.max(p.arrayBuffers, m.arrayBuffers);
    p.wasm = Math.max(p.wasm, pw.wasmMemory().buffer.byteLength);
  }
  stop(): Record<string, number> {
    clearInterval(this.timer);
    this.sample();
    return Object.fromEntries(Object.entries(this.peak).map(([k, v]) => [k, Math.round(v / MiB)]));
  }
}

/** What every stage process reports (one JSON line on stdout). */
export interface StageReport {
  stage: string;
  rows: number;
  seconds: number;
  cpuUserSeconds: number;
  cpuSystemSeconds: number;
  maxRssMb: number;
  /** Share of the stage's wall time the event loop sat idle: with one JS thread and no disk I/O, that is time waiting on S3. */
  idleShare?: number;
  s3: S3Stats;
  memoryPeaksMb: Record<string, number>;
  extra?: Record<string, unknown>;
}

/** Uploads a local file to the bench bucket and checks its size there. */
export async function upload(s3: S3Client, path: string, key: string): Promise<{ uri: string; eTag: string; size: number; seconds: number }> {
  const started = Date.now();
  await new Upload({
    client: s3,
    params: { Bucket: BUCKET, Key: key, Body: createReadStream(path, { highWaterMark: 8 * MiB }) },
    partSize: 64 * MiB,
    queueSize: 2,
    leavePartsOnError: false,
  }).done();
  const uri = `s3://${BUCKET}/${key}`;
  const head = (await headObject(s3, uri))!;
  if (head.size !== statSync(path).size) throw new Error(`${uri}: uploaded ${head.size} bytes of ${statSync(path).size}`);
  return { uri, eTag: head.eTag, size: head.size, seconds: (Date.now() - started) / 1000 };
}

/** A process's CPU time so far (user + sys, every thread), from /proc; 0 when it is gone. */
export function procCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (100 Hz)
  } catch {
    return 0;
  }
}
