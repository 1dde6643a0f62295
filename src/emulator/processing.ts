import type { S3Client } from '@aws-sdk/client-s3';
import type { FaultState } from './faults';
import { alnumId, fnv1a } from './hash';
import type { InputFile } from './input';
import type { Job, JobStatus } from './jobStore';
import { FakeResult, invokeFake } from './models';
import { S3Location, parseS3Uri, putText, readLines, writeLines } from './s3';

export interface ProcessContext {
  s3: S3Client;
  timing: { inProgressMs: number; perRecordMs: number };
  shuffle: boolean;
  faults: FaultState;
  /** Injected failure: the job ends Failed halfway through its InProgress time. */
  failMidway: boolean;
  /** Injected cut once about half the records (faults.partialCutPercent) are done: 'stop' as if StopModelInvocationJob were called, 'timeout' as if the job reached its timeout. */
  cutAtHalf?: 'stop' | 'timeout';
  isClosed: () => boolean;
  transition: (to: JobStatus, message?: string) => void;
}

interface DoneRecord {
  line: string;
  recordId: string;
  position: number;
  error?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(line);
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits `ms` in short steps so a stop or close() is noticed within ~20 ms and no timer outlives the emulator. */
export async function sleepUnless(ms: number, cancelled: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (!cancelled() && Date.now() < until) await sleep(Math.min(20, until - Date.now()));
}

export function outputLocation(job: Job, name: string): S3Location {
  const out = parseS3Uri(job.request.outputDataConfig.s3OutputDataConfig.s3Uri);
  const prefix = out.key.replace(/\/+$/, '');
  return { bucket: out.bucket, key: `${prefix ? `${prefix}/` : ''}${job.jobId}/${name}` };
}

function invoke(job: Job, modelInput: unknown): FakeResult {
  return invokeFake(job.family, job.request.modelInvocationType, job.request.modelId, modelInput);
}

function processRecord(job: Job, ctx: ProcessContext, file: InputFile, line: string, lineNo: number, position: number): DoneRecord {
  const parsed = parseObject(line);
  const given = parsed?.recordId;
  const recordId = typeof given === 'string' && given !== '' ? given : alnumId(`${job.jobId}:${file.relativeName}:${lineNo}`, 11);
  const injected = ctx.faults.recordError(position, recordId);
  const result: FakeResult = injected
    ? { ok: false, message: injected }
    : parsed
      ? invoke(job, parsed.modelInput)
      : { ok: false, message: 'The record is not a valid JSON object.' };
  job.processedRecordCount = (job.processedRecordCount ?? 0) + 1;
  if (result.ok) {
    job.successRecordCount = (job.successRecordCount ?? 0) + 1;
    job.inputTokenCount += result.inputTokens;
    job.outputTokenCount += result.outputTokens;
  } else {
    job.errorRecordCount = (job.errorRecordCount ?? 0) + 1;
  }
  return { line, recordId, position, error: result.ok ? undefined : result.message };
}

/** The output line of a record; model answers are recomputed here so only input lines are held in memory. */
function outputLine(job: Job, r: DoneRecord): string {
  const modelInput = parseObject(r.line)?.modelInput;
  if (r.error !== undefined) return JSON.stringify({ recordId: r.recordId, modelInput, error: { errorCode: 400, errorMessage: r.error } });
  const result = invoke(job, modelInput);
  return JSON.stringify({ recordId: r.recordId, modelInput, modelOutput: result.ok ? result.modelOutput : undefined });
}

async function writeFileOutput(job: Job, ctx: ProcessContext, file: InputFile, done: DoneRecord[]): Promise<void> {
  let ordered = done;
  if (ctx.shuffle) {
    const keyed = done.map((r) => ({ r, k: fnv1a(`${job.jobId}:${r.position}`) }));
    keyed.sort((a, b) => a.k - b.k || a.r.position - b.r.position);
    ordered = keyed.map((x) => x.r);
  }
  await writeLines(
    ctx.s3,
    outputLocation(job, `${file.relativeName}.out`),
    (function* () {
      for (const r of ordered) yield outputLine(job, r);
    })(),
  );
}

async function writeManifest(job: Job, ctx: ProcessContext): Promise<void> {
  const manifest = {
    totalRecordCount: job.totalRecordCount ?? 0,
    processedRecordCount: job.processedRecordCount ?? 0,
    successRecordCount: job.successRecordCount ?? 0,
    errorRecordCount: job.errorRecordCount ?? 0,
    inputTokenCount: job.inputTokenCount,
    outputTokenCount: job.outputTokenCount,
  };
  await putText(ctx.s3, outputLocation(job, 'manifest.json.out'), `${JSON.stringify(manifest)}\n`);
}

/** Ends the running job early the way a stop request or a timeout would; the loop sees `abort` before the next record. */
function cutShort(job: Job, ctx: ProcessContext, how: 'stop' | 'timeout'): void {
  if (how === 'stop') ctx.transition('Stopping');
  job.abort = how;
}

/**
 * Runs an InProgress job: records are released at an even pace over inProgressMs + perRecordMs*records
 * so counters grow visibly and a stop or timeout catches the job part-way. Each input file's output is
 * written when the file is finished or the job is cut short.
 */
export async function processJob(job: Job, ctx: ProcessContext): Promise<void> {
  const files = job.files ?? [];
  const total = job.totalRecordCount ?? 0;
  const started = Date.now();
  const duration = ctx.timing.inProgressMs + ctx.timing.perRecordMs * total;
  const failAt = ctx.failMidway ? started + duration / 2 : undefined;
  let position = 0;

  const mustAbort = () => {
    if (failAt !== undefined && Date.now() >= failAt) job.abort ??= 'fail';
    return ctx.isClosed() || job.abort !== undefined;
  };
  const due = () => (duration <= 0 ? total : Math.min(total, Math.floor((total * (Date.now() - started)) / duration)));
  const waitTurn = async (): Promise<boolean> => {
    for (;;) {
      if (mustAbort()) return false;
      if (position < due()) return true;
      const nextAt = started + (duration * (position + 1)) / total;
      await sleep(Math.max(1, Math.min(20, nextAt - Date.now())));
    }
  };

  try {
    for (const file of files) {
      if (mustAbort()) break;
      const done: DoneRecord[] = [];
      let lineNo = 0;
      for await (const line of readLines(ctx.s3, file.loc)) {
        lineNo++;
        if (line.trim() === '') continue;
        if (!(await waitTurn())) break;
        position++;
        done.push(processRecord(job, ctx, file, line, lineNo, position));
        if (ctx.cutAtHalf && job.abort === undefined && position >= ctx.faults.cutPosition(total)) cutShort(job, ctx, ctx.cutAtHalf);
      }
      if (ctx.isClosed()) return;
      if (job.abort === 'fail' && job.status !== 'Stopping') break;
      await writeFileOutput(job, ctx, file, done);
    }
    if (ctx.isClosed()) return;
    if (job.status === 'Stopping') {
      await writeManifest(job, ctx);
      return ctx.transition('Stopped');
    }
    if (job.abort === 'fail') {
      return ctx.transition('Failed', 'The batch inference job failed because of an internal error (emulated fault). Retry the job.');
    }
    await writeManifest(job, ctx);
    if ((job.processedRecordCount ?? 0) >= total) return ctx.transition('Completed');
    ctx.transition(
      'PartiallyCompleted',
      `The job reached its timeout of ${job.request.timeoutDurationInHours} hours; ${job.processedRecordCount ?? 0} of ${total} records were processed.`,
    );
  } catch (err) {
    if (!ctx.isClosed() && job.status !== 'Failed') ctx.transition('Failed', `Internal error while running the job: ${String(err)}`);
  }
}
