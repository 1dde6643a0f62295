/**
 * Benchmark harness: the app's data path on a SimpleCoT look-alike against a local S3 server (moto).
 *
 *   npm run bench -- [--rows N] [--stages prep-csv,prep-parquet,post-text,post-embed] [--sizes half,full]
 *                    [--embed-rows M] [--embed-single] [--profile stage,…]
 *
 * N defaults to 2,214,941 (w601sxs/simpleCoT), M to min(1,000,000, N); "half" is N/2 (M/2).
 * Every measured stage runs in its own process (bench/stage.ts) so its peak RSS is its own.
 * Prints a markdown table and writes it, with details, to .local/bench/results.md.
 * A benchmark, not a test: nothing asserts; targets are reported as met or not.
 */
import { spawn } from 'node:child_process';
import { createReadStream, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { datasetFormat } from '../src/io/dataset';
import { MotoServer, startMotoServer } from '../src/localstack';
import { createS3Client, ensureBucket, headObject } from '../src/io/s3';
import type { ResolvedRun } from '../src/shared/types';
import { BUCKET, CREDENTIALS, MiB, REGION, ShardInfo, StageReport, embedRun, textRun } from './common';
import { CACHE_DIR, ensureEmbedCsv, ensureSimpleCot } from './generate';
import type { OutputSpec, OutputsWritten } from './outputs';
import { summarizeProfile } from './profile';
import { SIMPLECOT_COLUMNS } from './textgen';

const FULL_ROWS = 2_214_941;
const FULL_EMBED_ROWS = 1_000_000;
const ALL_STAGES = ['prep-csv', 'prep-parquet', 'post-text', 'post-embed'] as const;
type StageName = (typeof ALL_STAGES)[number];
const RSS_LIMIT_MB = 1024;
/** Targets: seconds at the reference size, scaled linearly to the size measured. */
const TARGETS: Record<StageName, { seconds: number; atRows: number }> = {
  'prep-csv': { seconds: 60, atRows: FULL_ROWS },
  'prep-parquet': { seconds: 60, atRows: FULL_ROWS },
  'post-text': { seconds: 90, atRows: FULL_ROWS },
  'post-embed': { seconds: 120, atRows: FULL_EMBED_ROWS },
};

interface Result {
  stage: StageName;
  rows: number;
  note?: string;
  report?: StageReport;
  wallSeconds?: number;
  moto?: { peakRssMb: number; cpuSeconds: number };
  profile?: string;
}

const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// ---------------------------------------------------------------------------------------------
// moto process: found by its command line, watched through /proc

function findMotoPid(port: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd.some((c) => c.includes('moto')) && cmd.includes(String(port))) return Number(entry);
    } catch {
      // process gone
    }
  }
  return undefined;
}

function procRssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function procCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (100 Hz)
  } catch {
    return 0;
  }
}

class MotoWatch {
  private peak = 0;
  private readonly cpu0: number;
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pid: number | undefined) {
    this.cpu0 = pid ? procCpuSeconds(pid) : 0;
    this.timer = setInterval(() => this.sample(), 250);
  }
  private sample() {
    if (this.pid) this.peak = Math.max(this.peak, procRssMb(this.pid));
  }
  stop(): { peakRssMb: number; cpuSeconds: number } {
    clearInterval(this.timer);
    this.sample();
    return { peakRssMb: Math.round(this.peak), cpuSeconds: this.pid ? procCpuSeconds(this.pid) - this.cpu0 : 0 };
  }
}

// ---------------------------------------------------------------------------------------------
// stage processes

async function runChild(request: object, opts: { env: NodeJS.ProcessEnv; profileName?: string }): Promise<{ report: StageReport; wallSeconds: number; profile?: string }> {
  const profDir = resolve(CACHE_DIR, 'prof');
  const nodeArgs = ['--import', 'tsx'];
  if (opts.profileName) {
    mkdirSync(profDir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${opts.profileName}.cpuprofile`);
  }
  const started = Date.now();
  const child = spawn(process.execPath, [...nodeArgs, resolve(__dirname, 'stage.ts'), JSON.stringify(request)], {
    env: opts.env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((res) => child.on('close', res));
  const wallSeconds = (Date.now() - started) / 1000;
  if (code !== 0) throw new Error(`stage process exited with ${code}`);
  const report = JSON.parse(out.trim().split('\n').pop()!) as StageReport;
  return { report, wallSeconds, profile: opts.profileName ? resolve(profDir, `${opts.profileName}.cpuprofile`) : undefined };
}

async function upload(s3: S3Client, path: string, key: string): Promise<{ uri: string; eTag: string; size: number; seconds: number }> {
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

interface Stack {
  moto: MotoServer;
  pid?: number;
  s3: S3Client;
  env: NodeJS.ProcessEnv;
}

async function startStack(): Promise<Stack> {
  const moto = await startMotoServer();
  const pid = findMotoPid(moto.port);
  const s3 = createS3Client({ region: REGION, endpoint: moto.endpoint, forcePathStyle: true, credentials: CREDENTIALS });
  await ensureBucket(s3, BUCKET);
  const env = {
    ...process.env,
    AWS_ENDPOINT_URL_S3: moto.endpoint,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    NODE_NO_WARNINGS: '1',
  };
  log(`moto at ${moto.endpoint} (pid ${pid ?? '?'})`);
  return { moto, pid, s3, env };
}

async function stopStack(stack: Stack): Promise<void> {
  stack.s3.destroy();
  await stack.moto.stop();
}

// ---------------------------------------------------------------------------------------------
// report

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

function targetOf(r: Result): { text: string; met?: string } {
  const t = TARGETS[r.stage];
  const seconds = (t.seconds * r.rows) / t.atRows;
  const text = `≤ ${seconds.toFixed(seconds < 10 ? 1 : 0)} s, ≤ ${RSS_LIMIT_MB} MB`;
  if (!r.report) return { text };
  const slow = r.report.seconds > seconds;
  const fat = r.report.maxRssMb > RSS_LIMIT_MB;
  return { text, met: slow || fat ? `no (${[slow && 'time', fat && 'RSS'].filter(Boolean).join(', ')})` : 'yes' };
}

function mainTable(results: Result[]): string {
  const lines = ['| stage | rows | seconds | rows/s | MB/s | peak RSS MB | S3-wait share | target | met? |', '|---|---:|---:|---:|---:|---:|---:|---|---|'];
  for (const r of results) {
    const t = targetOf(r);
    if (!r.report) {
      lines.push(`| ${r.stage} | ${fmtInt(r.rows)} | ${r.note ?? ''} | | | | | ${t.text} | ${r.note ? '—' : ''} |`);
      continue;
    }
    const x = r.report;
    lines.push(
      `| ${r.stage}${r.profile ? ' (profiled)' : ''} | ${fmtInt(x.rows)} | ${x.seconds.toFixed(1)} | ${fmtInt(x.rows / x.seconds)} | ${(x.s3.bytesIn / MiB / x.seconds).toFixed(1)} | ${x.maxRssMb} | ${x.idleShare === undefined ? '—' : `${(100 * x.idleShare).toFixed(0)}%`} | ${t.text} | ${t.met} |`,
    );
  }
  return lines.join('\n');
}

function split(x: StageReport): string {
  const prep = x.extra as { parts?: number; threads?: number; planSeconds?: number } | undefined;
  if (prep?.parts !== undefined) return `plan ${prep.planSeconds!.toFixed(1)} s; ${prep.parts} parts on ${prep.threads} threads ${(x.seconds - prep.planSeconds!).toFixed(1)} s`;
  const read = (x.extra as { readOutputsSeconds?: number } | undefined)?.readOutputsSeconds;
  return read === undefined ? '' : `output lines → Map ${read.toFixed(1)} s; snapshot read + join + Parquet write ${(x.seconds - read).toFixed(1)} s`;
}

function detailTable(results: Result[]): string {
  const lines = [
    '| stage | rows | wall s (incl. start-up) | CPU user+sys s | time split | S3 MB in / out | S3 requests | JS heap / arrayBuffers / wasm peak MB | moto peak RSS MB | moto CPU s |',
    '|---|---:|---:|---:|---:|---|---|---|---:|---:|',
  ];
  for (const r of results) {
    if (!r.report) continue;
    const x = r.report;
    const req = Object.entries(x.s3.requests)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    const m = x.memoryPeaksMb;
    lines.push(
      `| ${r.stage} | ${fmtInt(x.rows)} | ${r.wallSeconds?.toFixed(1)} | ${(x.cpuUserSeconds + x.cpuSystemSeconds).toFixed(1)} | ${split(x)} | ${fmtInt(x.s3.bytesIn / MiB)} / ${fmtInt(x.s3.bytesOut / MiB)} | ${req} | ${m.heapUsed} / ${m.arrayBuffers} / ${m.wasm} | ${r.moto?.peakRssMb ?? ''} | ${r.moto?.cpuSeconds.toFixed(1) ?? ''} |`,
    );
  }
  return lines.join('\n');
}

const NOTES = `Method
- Each stage runs in its own Node process (bench/stage.ts, \`node --import tsx\`); "seconds" is measured inside it around the app call (excludes process start-up and tsx compile, shown in "wall s"); "peak RSS" is that process's \`process.resourceUsage().maxRSS\`.
- prep-*: the worker's preprocessing activities — \`planPreparation\` (Parquet footers, or one quote-aware boundary scan of the CSV), \`preparePart\` for every part with as many parts at once as threads (each part in a worker thread, as a worker with \`BATCH_PREPARE_THREADS\` = cores runs them), \`combineParts\` (shards.json, estimate) — each inside a Temporal activity Context; template question_answering, ${'anthropic.claude-3-haiku-20240307-v1:0'}, maxRecordsPerJob 50,000, parts of 256 MiB of input, ResolvedRun built by hand with the input's ETag. CPU time and peak RSS include the threads.
- post-*: \`makeCollectShard(deps).collectShard\` for every shard in turn, run inside a Temporal activity Context set through \`@temporalio/activity\`'s asyncLocalStorage (what MockActivityEnvironment does; @temporalio/testing is not installed). Inputs are the shards that the prep stage (prep-csv, or an unmeasured prep of the embedding CSV) wrote, and Bedrock-shaped outputs generated from their JSONL (shuffled, 0.1% error records, manifest.json.out).
- MB/s = MB the stage read from S3 per second (prep: the input object's size, read once by the parts (the CSV's boundary scan reads it once more); post: GetObject Content-Length of output lines + snapshots).
- S3-wait share = event-loop idle time / wall time in the stage process (\`performance.eventLoopUtilization\`): post-* run on one JS thread whose only I/O is S3 sockets, so the loop is idle exactly when nothing can proceed until S3 answers. Not measured for prep (—): its work is in threads, and the main loop only waits for them. For post-*, the time split is at collectShard's HeadObject of the snapshot, which comes after all output lines are read.
- moto runs on the same 2 cores; its CPU time and peak RSS during each stage are in the details.
- Targets are scaled linearly from the reference size to the rows measured (prep 60 s and post-text 90 s at 2,214,941 rows; post-embed 120 s at 1,000,000), plus peak RSS ≤ 1 GB.`;

function writeResults(results: Result[], header: string): string {
  const text = `${header}\n\n${mainTable(results)}\n\nDetails\n\n${detailTable(results)}\n\n${NOTES}\n`;
  mkdirSync(CACHE_DIR, { recursive: true });
  writeFileSync(resolve(CACHE_DIR, 'results.md'), text);
  return text;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string' },
      stages: { type: 'string' },
      sizes: { type: 'string' },
      'embed-rows': { type: 'string' },
      'embed-single': { type: 'boolean' },
      profile: { type: 'string' },
      threads: { type: 'string' },
      'part-mb': { type: 'string' },
    },
  });
  const fullRows = Number(values.rows ?? FULL_ROWS);
  const fullEmbed = Number(values['embed-rows'] ?? Math.min(FULL_EMBED_ROWS, fullRows));
  const stages = (values.stages ?? ALL_STAGES.join(',')).split(',').map((s) => s.trim()) as StageName[];
  for (const s of stages) if (!ALL_STAGES.includes(s)) throw new Error(`unknown stage ${s}; stages: ${ALL_STAGES.join(', ')}`);
  const sizes = (values.sizes ?? 'half,full').split(',').map((s) => s.trim());
  const profiled = new Set((values.profile ?? '').split(',').filter(Boolean));
  const embeddingsByType = !values['embed-single'];
  const has = (s: StageName) => stages.includes(s);
  // Preprocessing threads, as a worker has them by default: one per core.
  const threads = Number(values.threads ?? availableParallelism());
  const partBytes = values['part-mb'] ? Number(values['part-mb']) * MiB : undefined;
  const withParts = (run: ResolvedRun): ResolvedRun => (partBytes ? { ...run, partBytes } : run);

  const header = `# Benchmark ${new Date().toISOString()}\n\nN = ${fmtInt(fullRows)} (SimpleCoT look-alike), embeddings M = ${fmtInt(fullEmbed)} × 1024-d${embeddingsByType ? ' (vector twice per line: embedding + embeddingsByType.float, as the emulator answers)' : ''}; sizes ${sizes.join(', ')}; stages ${stages.join(', ')}; ${process.version}, ${readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length} CPUs.`;
  const results: Result[] = [];
  const report = () => writeResults(results, header);

  for (const size of sizes) {
    const n = size === 'half' ? Math.floor(fullRows / 2) : size === 'full' ? fullRows : Number(size);
    const m = size === 'half' ? Math.floor(fullEmbed / 2) : size === 'full' ? fullEmbed : Number(size);

    if (has('prep-csv') || has('prep-parquet') || has('post-text')) {
      const files = await ensureSimpleCot(n, log);
      const stack = await startStack();
      try {
        let shards: ShardInfo[] | undefined;
        let csvRun: ResolvedRun | undefined;
        if (has('prep-csv') || has('post-text')) {
          const up = await upload(stack.s3, files.csvPath, `input/simplecot-${n}.csv`);
          log(`uploaded CSV ${fmtInt(up.size / MiB)} MiB in ${up.seconds.toFixed(1)} s`);
          csvRun = withParts(textRun({ inputUri: up.uri, eTag: up.eTag, runKey: `csv-${n}`, columns: [...SIMPLECOT_COLUMNS] }));
          const stage: StageName = 'prep-csv';
          log(`${has(stage) ? '' : 'setup: '}prep-csv at ${fmtInt(n)} rows…`);
          const watch = new MotoWatch(stack.pid);
          const r = await runChild({ mode: 'prep', stage, run: csvRun, threads, inputBytes: up.size }, { env: stack.env, profileName: profiled.has(stage) ? `${stage}-${n}` : undefined });
          const moto = watch.stop();
          shards = (r.report.extra as { shards: ShardInfo[] }).shards;
          if (has(stage)) {
            results.push({ stage, rows: n, report: r.report, wallSeconds: r.wallSeconds, moto, profile: r.profile });
            log(report().split('\n\nDetails')[0]);
          }
          if (r.profile) log(summarizeProfile(r.profile));
        }
        if (has('prep-parquet')) {
          const stage: StageName = 'prep-parquet';
          if (datasetFormat('x.parquet') !== 'parquet') {
            results.push({ stage, rows: n, note: 'not supported yet' });
          } else {
            const up = await upload(stack.s3, files.parquetPath, `input/simplecot-${n}.parquet`);
            log(`uploaded Parquet ${fmtInt(up.size / MiB)} MiB in ${up.seconds.toFixed(1)} s`);
            const run = withParts(textRun({ inputUri: up.uri, eTag: up.eTag, runKey: `parquet-${n}`, columns: [...SIMPLECOT_COLUMNS] }));
            log(`prep-parquet at ${fmtInt(n)} rows…`);
            const watch = new MotoWatch(stack.pid);
            try {
              const r = await runChild({ mode: 'prep', stage, run, threads, inputBytes: up.size }, { env: stack.env, profileName: profiled.has(stage) ? `${stage}-${n}` : undefined });
              results.push({ stage, rows: n, report: r.report, wallSeconds: r.wallSeconds, moto: watch.stop(), profile: r.profile });
              if (r.profile) log(summarizeProfile(r.profile));
            } catch (err) {
              watch.stop();
              results.push({ stage, rows: n, note: `failed: ${(err as Error).message}` });
            }
          }
          log(report().split('\n\nDetails')[0]);
        }
        if (has('post-text')) {
          await postStage('post-text', csvRun!, shards!, stack, { kind: 'text', embeddingsByType, dimensions: 1024 }, profiled, results);
          log(report().split('\n\nDetails')[0]);
        }
      } finally {
        await stopStack(stack);
      }
    }

    if (has('post-embed')) {
      const files = await ensureEmbedCsv(m, log);
      const stack = await startStack();
      try {
        const up = await upload(stack.s3, files.csvPath, `input/embed-${m}.csv`);
        const run = withParts(embedRun({ inputUri: up.uri, eTag: up.eTag, runKey: `embed-${m}`, columns: ['id', 'input_text'] }));
        log(`setup: embedding prep at ${fmtInt(m)} rows…`);
        const prep = await runChild({ mode: 'prep', stage: 'setup', run, threads, inputBytes: up.size }, { env: stack.env });
        const shards = (prep.report.extra as { shards: ShardInfo[] }).shards;
        await postStage('post-embed', run, shards, stack, { kind: 'embedding', embeddingsByType, dimensions: 1024 }, profiled, results);
        log(report().split('\n\nDetails')[0]);
      } finally {
        await stopStack(stack);
      }
    }
  }

  const text = report();
  console.log(text);
  log(`written to ${resolve(CACHE_DIR, 'results.md')}`);
}

async function postStage(
  stage: 'post-text' | 'post-embed',
  run: ResolvedRun,
  shards: ShardInfo[],
  stack: Stack,
  spec: Omit<OutputSpec, 'runUri' | 'shards'>,
  profiled: Set<string>,
  results: Result[],
): Promise<void> {
  const rows = shards.reduce((n, s) => n + s.records, 0);
  log(`setup: Bedrock outputs for ${shards.length} shards (${fmtInt(rows)} records)…`);
  const setup = await runChild({ mode: 'outputs', stage: 'setup', spec: { ...spec, runUri: run.runUri, shards } }, { env: stack.env });
  const written = setup.report.extra as unknown as OutputsWritten;
  log(`setup: ${fmtInt(written.bytes / MiB)} MiB of output lines in ${setup.wallSeconds.toFixed(0)} s (${Math.round(written.bytes / written.lines)} B/line)`);
  log(`${stage} at ${fmtInt(rows)} rows…`);
  const watch = new MotoWatch(stack.pid);
  try {
    const r = await runChild(
      { mode: 'collect', stage, run, shards, jobIds: written.jobIds },
      { env: stack.env, profileName: profiled.has(stage) ? `${stage}-${rows}` : undefined },
    );
    results.push({ stage, rows, report: r.report, wallSeconds: r.wallSeconds, moto: watch.stop(), profile: r.profile });
    if (r.profile) log(summarizeProfile(r.profile));
  } catch (err) {
    watch.stop();
    results.push({ stage, rows, note: `failed: ${(err as Error).message}` });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
