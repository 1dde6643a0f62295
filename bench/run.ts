/**
 * Benchmark harness: the app's data path on a SimpleCoT look-alike against a local S3 server
 * (moto through scripts/moto_ranged.py, or stock moto with --server stock).
 *
 *   npm run bench -- [--rows N] [--stages prep-csv,prep-parquet,post-text,post-embed] [--sizes half,full]
 *                    [--embed-rows M] [--embed-single] [--profile stage,…] [--server ranged|stock] [--out FILE]
 *
 * N defaults to 2,214,941 (w601sxs/simpleCoT), M to min(1,000,000, N); "half" is N/2 (M/2).
 * Every measured stage runs in its own process (bench/stage.ts) so its peak RSS is its own.
 * Prints a markdown table (wall, app CPU, server CPU, peak RSS, each target met / not met) and
 * writes it, with details, to .local/bench/results.md (or --out).
 * A benchmark, not a test: nothing asserts; targets are reported as met or not.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { S3Client } from '@aws-sdk/client-s3';
import { datasetFormat } from '../src/io/dataset';
import { MotoServer, startMotoServer } from '../src/localstack';
import { createS3Client, ensureBucket } from '../src/io/s3';
import type { ResolvedRun } from '../src/shared/types';
import { BUCKET, CREDENTIALS, MiB, REGION, ShardInfo, StageReport, embedRun, procCpuSeconds, textRun, upload } from './common';
import { CACHE_DIR, ensureEmbedCsv, ensureSimpleCot } from './generate';
import type { OutputSpec, OutputsWritten } from './outputs';
import { summarizeProfile } from './profile';
import { SIMPLECOT_COLUMNS } from './textgen';

const FULL_ROWS = 2_214_941;
const FULL_EMBED_ROWS = 1_000_000;
const ALL_STAGES = ['prep-csv', 'prep-parquet', 'post-text', 'post-embed'] as const;
type StageName = (typeof ALL_STAGES)[number];
const RSS_LIMIT_MB = 1024;
/**
 * Issue 11's targets on this 2-core machine, at the reference size, scaled linearly to the rows
 * measured (N/2: half): app CPU (user+sys of the stage process, threads included) and, for
 * preprocessing, wall time; plus peak RSS ≤ 1 GB in every stage.
 */
const TARGETS: Record<StageName, { cpu: number; wall?: number; atRows: number }> = {
  'prep-csv': { cpu: 31, wall: 20, atRows: FULL_ROWS },
  'prep-parquet': { cpu: 31, wall: 20, atRows: FULL_ROWS },
  'post-text': { cpu: 35, atRows: FULL_ROWS },
  'post-embed': { cpu: 60, atRows: FULL_EMBED_ROWS },
};

interface Result {
  stage: StageName;
  rows: number;
  note?: string;
  report?: StageReport;
  wallSeconds?: number;
  /** The S3 server process over the stage: CPU user+sys and peak RSS. */
  moto?: { peakRssMb: number; cpuSeconds: number };
  profile?: string;
}

const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// ---------------------------------------------------------------------------------------------
// the S3 server process, watched through /proc

function procRssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
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

interface Stack {
  moto: MotoServer;
  pid?: number;
  s3: S3Client;
  env: NodeJS.ProcessEnv;
}

async function startStack(ranged: boolean): Promise<Stack> {
  const moto = await startMotoServer({ ranged });
  const pid = moto.pid;
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
  log(`${ranged ? 'ranged ' : 'stock '}moto at ${moto.endpoint} (pid ${pid ?? '?'})`);
  return { moto, pid, s3, env };
}

async function stopStack(stack: Stack): Promise<void> {
  stack.s3.destroy();
  await stack.moto.stop();
}

// ---------------------------------------------------------------------------------------------
// report

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

/** "≤ 31.0 s: met" — the limit scaled to the rows measured, and whether the value keeps it. */
function target(limit: number | undefined, value: number | undefined, unit: string): string {
  if (limit === undefined) return '—';
  const text = `≤ ${limit.toFixed(unit === 'MB' ? 0 : 1)} ${unit}`;
  return value === undefined ? text : `${text}: ${value <= limit ? 'met' : 'not met'}`;
}

function targetsOf(r: Result): { wall: string; cpu: string; rss: string } {
  const t = TARGETS[r.stage];
  const scale = r.rows / t.atRows;
  const x = r.report;
  return {
    wall: target(t.wall === undefined ? undefined : t.wall * scale, x?.seconds, 's'),
    cpu: target(t.cpu * scale, x ? x.cpuUserSeconds + x.cpuSystemSeconds : undefined, 's'),
    rss: target(RSS_LIMIT_MB, x?.maxRssMb, 'MB'),
  };
}

function mainTable(results: Result[]): string {
  const lines = [
    '| stage | rows | wall s | app CPU s | server CPU s | peak RSS MB | rows/s | MB/s | S3-wait share | wall target | app CPU target | RSS target |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|',
  ];
  for (const r of results) {
    const t = targetsOf(r);
    if (!r.report) {
      lines.push(`| ${r.stage} | ${fmtInt(r.rows)} | ${r.note ?? ''} | | | | | | | ${t.wall} | ${t.cpu} | ${t.rss} |`);
      continue;
    }
    const x = r.report;
    const cpu = x.cpuUserSeconds + x.cpuSystemSeconds;
    lines.push(
      `| ${r.stage}${r.profile ? ' (profiled)' : ''} | ${fmtInt(x.rows)} | ${x.seconds.toFixed(1)} | ${cpu.toFixed(1)} | ${r.moto?.cpuSeconds.toFixed(1) ?? '?'} | ${x.maxRssMb} | ${fmtInt(x.rows / x.seconds)} | ${(x.s3.bytesIn / MiB / x.seconds).toFixed(1)} | ${x.idleShare === undefined ? '—' : `${(100 * x.idleShare).toFixed(0)}%`} | ${t.wall} | ${t.cpu} | ${t.rss} |`,
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
    '| stage | rows | wall s (incl. start-up) | CPU user / sys s | time split | S3 MB in / out | S3 requests | JS heap / arrayBuffers / wasm peak MB | server peak RSS MB |',
    '|---|---:|---:|---:|---:|---|---|---|---:|',
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
      `| ${r.stage} | ${fmtInt(x.rows)} | ${r.wallSeconds?.toFixed(1)} | ${x.cpuUserSeconds.toFixed(1)} / ${x.cpuSystemSeconds.toFixed(1)} | ${split(x)} | ${fmtInt(x.s3.bytesIn / MiB)} / ${fmtInt(x.s3.bytesOut / MiB)} | ${req} | ${m.heapUsed} / ${m.arrayBuffers} / ${m.wasm} | ${r.moto?.peakRssMb ?? ''} |`,
    );
  }
  return lines.join('\n');
}

const NOTES = `Method
- Each stage runs in its own Node process (bench/stage.ts, \`node --import tsx\`). "wall s" is measured inside it around the app call (excludes process start-up and tsx compile, shown in the details as "wall s (incl. start-up)"); "app CPU s" is that process's user+sys CPU time over the same span (\`process.cpuUsage()\`: every thread, so the part threads too); "peak RSS" is its \`process.resourceUsage().maxRSS\`.
- "server CPU s" is the local S3 server's user+sys CPU time over the stage (/proc/<pid>/stat, sampled before and after); it is not in app CPU, but it runs on the same 2 cores and so can stretch wall time. The server is moto through scripts/moto_ranged.py (GetObject sent from the object's file, reading only the range), or stock moto with \`--server stock\`; see bench/README.md.
- prep-*: the worker's preprocessing activities — \`planPreparation\` (Parquet footers, or one quote-aware boundary scan of the CSV), \`preparePart\` for every part with as many parts at once as threads (each part in a worker thread, as a worker with \`BATCH_PREPARE_THREADS\` = cores runs them), \`combineParts\` (shards.json, estimate) — each inside a Temporal activity Context; template question_answering, ${'anthropic.claude-3-haiku-20240307-v1:0'}, maxRecordsPerJob 50,000, parts of 256 MiB of input, ResolvedRun built by hand with the input's ETag. CPU time and peak RSS include the threads.
- post-*: \`makeCollectShard(deps).collectShard\` for every shard in turn, run inside a Temporal activity Context set through \`@temporalio/activity\`'s asyncLocalStorage (what MockActivityEnvironment does; @temporalio/testing is not installed). Inputs are the shards that the prep stage (prep-csv, or an unmeasured prep of the embedding CSV) wrote, and Bedrock-shaped outputs generated from their JSONL (shuffled, 0.1% error records, manifest.json.out).
- MB/s = MB the stage read from S3 per second (prep: the input object's size, read once by the parts (the CSV's boundary scan reads it once more); post: GetObject Content-Length of output lines + snapshots).
- S3-wait share = event-loop idle time / wall time in the stage process (\`performance.eventLoopUtilization\`): post-* run on one JS thread whose only I/O is S3 sockets, so the loop is idle exactly when nothing can proceed until S3 answers. Not measured for prep (—): its work is in threads, and the main loop only waits for them. For post-*, the time split is at collectShard's HeadObject of the snapshot, which comes after all output lines are read.
- Targets (issue 11, 2 cores) at 2,214,941 rows: prep-csv and prep-parquet app CPU ≤ 31 s and wall ≤ 20 s, post-text app CPU ≤ 35 s; post-embed at 1,000,000 × 1,024-d app CPU ≤ 60 s; peak RSS ≤ 1 GB in every stage. CPU and wall limits are scaled linearly to the rows measured (N/2: half).`;

function writeResults(results: Result[], header: string, file: string): string {
  const text = `${header}\n\n${mainTable(results)}\n\nDetails\n\n${detailTable(results)}\n\n${NOTES}\n`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
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
      server: { type: 'string' },
      out: { type: 'string' },
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
  // ranged: moto through scripts/moto_ranged.py (GetObject reads only the range); stock: moto as shipped
  const server = values.server ?? 'ranged';
  if (server !== 'ranged' && server !== 'stock') throw new Error(`--server ranged|stock, not ${server}`);
  const ranged = server === 'ranged';

  const header = `# Benchmark ${new Date().toISOString()}\n\nN = ${fmtInt(fullRows)} (SimpleCoT look-alike), embeddings M = ${fmtInt(fullEmbed)} × 1024-d${embeddingsByType ? ' (vector twice per line: embedding + embeddingsByType.float, as the emulator answers)' : ''}; sizes ${sizes.join(', ')}; stages ${stages.join(', ')}; S3 server ${ranged ? 'ranged moto (scripts/moto_ranged.py)' : 'stock moto'}; ${process.version}, ${readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length} CPUs.`;
  const results: Result[] = [];
  const outFile = resolve(values.out ?? resolve(CACHE_DIR, 'results.md'));
  const report = () => writeResults(results, header, outFile);

  for (const size of sizes) {
    const n = size === 'half' ? Math.floor(fullRows / 2) : size === 'full' ? fullRows : Number(size);
    const m = size === 'half' ? Math.floor(fullEmbed / 2) : size === 'full' ? fullEmbed : Number(size);

    if (has('prep-csv') || has('prep-parquet') || has('post-text')) {
      const files = await ensureSimpleCot(n, log);
      const stack = await startStack(ranged);
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
      const stack = await startStack(ranged);
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
  log(`written to ${outFile}`);
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
