/**
 * Preprocessing spread across worker processes (issue 11): one run's parts prepared by one worker
 * process with one thread, then the same input by two such processes. Each is the real worker
 * (`src/worker.ts`, BATCH_PREPARE_THREADS=1) on the local stack (Temporal dev server, moto, the
 * Bedrock emulator); parts are activities on the CPU task queue, which a worker polls only while it
 * has a free slot. The parts phase is read from the run's history (first preparePart scheduled →
 * last completed), with the worker that took each part. Prints the phase's wall time for each
 * count and the ratio of two to one (target ≤ 0.55, "about half"), met / not met.
 *
 *   npx tsx bench/workers.ts [--rows 1107470] [--part-mib 128] [--server ranged|stock]
 *
 * The run is stopped (terminated, its shards too) once its parts are prepared: submitting jobs is
 * not what this measures.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { REPO_ROOT } from '../src/config';
import { BATCH_RUN_WORKFLOW, TASK_QUEUE } from '../src/shared/types';
import { startLocalStack } from '../test/support/localStack';
import { spawnWorkerProcess } from '../test/support/workerProcess';
import { BUCKET, MAX_RECORDS_PER_JOB, MiB, TEXT_MODEL, procCpuSeconds, upload } from './common';
import { ensureSimpleCot } from './generate';
import { partsPhase } from '../test/support/partsPhase';

const TARGET_RATIO = 0.55;
const log = (msg: string) => process.stderr.write(`[workers ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

async function stopAll(client: Client): Promise<void> {
  for await (const wf of client.workflow.list({ query: 'ExecutionStatus="Running"' })) {
    await client.workflow
      .getHandle(wf.workflowId, wf.runId)
      .terminate('bench: parts measured')
      .catch(() => undefined);
  }
}

interface Measured {
  workers: number;
  seconds: number;
  parts: number;
  byWorker: Record<string, number>;
  /** CPU from the run's start to its parts combined (sampled once a second), so a little longer than the phase. */
  workerCpu: number;
  motoCpu: number;
}

/** One run's parts phase with `workers` worker processes of one thread each, on a stack of its own. */
async function measure(workers: number, csvPath: string, rows: number, partBytes: number): Promise<Measured> {
  const stack = await startLocalStack({ buckets: [BUCKET, 'results'] });
  const connection = await Connection.connect({ address: stack.temporal.address });
  const client = new Client({ connection });
  try {
    const input = await upload(stack.s3, csvPath, `input/simplecot-${rows}.csv`);
    log(`${rows.toLocaleString()} rows, ${(input.size / MiB).toFixed(0)} MiB on S3, parts of ${partBytes / MiB} MiB; ${workers} worker process(es)`);
    const procs = await Promise.all(
      Array.from({ length: workers }, () =>
        spawnWorkerProcess({ ...stack.env, BATCH_PREPARE_THREADS: '1', BATCH_TEMPLATES_DIR: resolve(REPO_ROOT, 'bench/templates') }),
      ),
    );
    try {
      const handle = await client.workflow.start(BATCH_RUN_WORKFLOW, {
        taskQueue: TASK_QUEUE,
        workflowId: `bench-workers-${workers}`,
        args: [
          {
            input: { s3Uri: input.uri },
            task: 'text',
            promptId: 'question_answering_long',
            modelId: TEXT_MODEL,
            outputUri: 's3://results/workers',
            roleArn: 'arn:aws:iam::123456789012:role/BedrockBatchRole',
            maxRecordsPerJob: MAX_RECORDS_PER_JOB,
            partBytes,
            prepareConcurrency: 16,
            runName: `bench-workers-${workers}`,
          },
        ],
      });
      const cpuOf = () => ({ workers: procs.reduce((sum, p) => sum + procCpuSeconds(p.child.pid!), 0), moto: stack.moto.pid ? procCpuSeconds(stack.moto.pid) : 0 });
      const cpu0 = cpuOf();
      const phase = await partsPhase(handle, 30 * 60_000);
      const cpu1 = cpuOf();
      log(`${workers} worker(s): ${phase.parts} parts in ${phase.seconds.toFixed(1)} s, by worker ${JSON.stringify(phase.byWorker)}`);
      return { workers, ...phase, workerCpu: cpu1.workers - cpu0.workers, motoCpu: cpu1.moto - cpu0.moto };
    } finally {
      await stopAll(client);
      await Promise.all(procs.map((p) => p.kill('SIGTERM')));
    }
  } finally {
    await connection.close();
    await stack.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rows: { type: 'string' }, 'part-mib': { type: 'string' }, server: { type: 'string' } } });
  const rows = Number(values.rows ?? 1_107_470);
  const partBytes = Number(values['part-mib'] ?? 128) * MiB;
  process.env.MOTO_RANGED = (values.server ?? 'ranged') === 'ranged' ? '1' : '0';
  const files = await ensureSimpleCot(rows, log);
  const results: Measured[] = [];
  // Each count on a fresh stack: an S3 server already holding the other run's outputs would not compare.
  for (const workers of [1, 2]) results.push(await measure(workers, files.csvPath, rows, partBytes));
  const one = results.find((r) => r.workers === 1)!;
  console.log('| worker processes (1 thread each) | parts | parts per worker | parts phase wall s | ÷ one worker | workers CPU s | S3 server CPU s |');
  console.log('|---:|---:|---|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(
      `| ${r.workers} | ${r.parts} | ${Object.values(r.byWorker).join(' + ')} | ${r.seconds.toFixed(1)} | ${(r.seconds / one.seconds).toFixed(2)} | ${r.workerCpu.toFixed(1)} | ${r.motoCpu.toFixed(1)} |`,
    );
  }
  const two = results.find((r) => r.workers === 2)!;
  const ratio = two.seconds / one.seconds;
  console.log(`\n${availableParallelism()} cores, shared by the worker processes, the S3 server and the Temporal server.`);
  console.log(`two workers ÷ one: ${ratio.toFixed(2)} (target ≤ ${TARGET_RATIO}): ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
