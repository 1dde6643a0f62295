import { extname, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { HubSettings } from '../io/huggingface';
import type { S3Settings } from '../io/s3';
import type { InputPart, PreparedPart, ResolvedRun } from '../shared/types';
import type { ThreadSettings } from './deps';
import type { PartProgress, PartShard } from './prepareParts';

export interface PartThreadSetup {
  s3: S3Settings;
  hub: HubSettings;
}

export interface PartJob {
  run: ResolvedRun;
  part: InputPart;
  resume: PartShard[];
}

export type PartThreadMessage =
  | { kind: 'progress'; progress: PartProgress }
  | { kind: 'done'; result: PreparedPart }
  | { kind: 'error'; name: string; message: string; stack?: string };

function threadCode(): string {
  const ext = extname(__filename);
  const entry = resolve(__dirname, `partThread${ext}`);
  // Under tsx or ts-jest the sources are TypeScript: the thread registers tsx's loader first.
  return ext === '.ts' ? `require('tsx/cjs/api').register(); require(${JSON.stringify(entry)});` : `require(${JSON.stringify(entry)});`;
}

/**
 * Long-lived threads, one part at a time each: a thread loads the app's modules (and a tokenizer)
 * once, not once per part, and its memory is reused. Parts beyond the thread count wait (the
 * activity keeps heartbeating meanwhile).
 */
class PartThreadPool {
  private readonly idle: Worker[] = [];
  private readonly waiting: Array<(w: Worker) => void> = [];
  private started = 0;

  constructor(
    private readonly size: number,
    private readonly setup: PartThreadSetup,
  ) {}

  async run(job: PartJob, heartbeat: (progress: PartProgress) => void, signal?: AbortSignal): Promise<PreparedPart> {
    const worker = await this.take();
    let healthy = false;
    try {
      signal?.throwIfAborted();
      const result = await new Promise<PreparedPart>((resolvePart, reject) => {
        const cleanup = () => {
          worker.off('message', onMessage).off('error', onError).off('exit', onExit);
          signal?.removeEventListener('abort', onAbort);
        };
        const onMessage = (m: PartThreadMessage) => {
          if (m.kind === 'progress') return heartbeat(m.progress);
          cleanup();
          healthy = true;
          if (m.kind === 'done') resolvePart(m.result);
          else reject(Object.assign(new Error(m.message), { name: m.name, stack: m.stack }));
        };
        const onError = (err: Error) => {
          cleanup();
          reject(err);
        };
        const onExit = (code: number) => {
          cleanup();
          reject(new Error(`preprocessing thread exited with code ${code} before finishing part ${job.part.index}`));
        };
        const onAbort = () => {
          cleanup();
          reject(signal?.reason ?? new Error('cancelled'));
        };
        worker.on('message', onMessage).on('error', onError).on('exit', onExit);
        signal?.addEventListener('abort', onAbort, { once: true });
        worker.postMessage(job);
      });
      return result;
    } finally {
      // A thread that did not finish its part cleanly (cancelled, crashed) is replaced, not reused.
      if (healthy) this.give(worker);
      else {
        void worker.terminate();
        this.started -= 1;
        this.give(undefined);
      }
    }
  }

  private async take(): Promise<Worker> {
    const idle = this.idle.pop();
    if (idle) {
      idle.ref();
      return idle;
    }
    if (this.started < this.size) {
      this.started += 1;
      // The SDK's Node-version notice was printed by this process already; once per thread is noise.
      const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
      return new Worker(threadCode(), { eval: true, workerData: this.setup, env });
    }
    return new Promise<Worker>((r) => this.waiting.push(r));
  }

  private give(worker: Worker | undefined): void {
    const next = this.waiting.shift();
    if (next) {
      if (worker) {
        next(worker);
        return;
      }
      this.started += 1;
      const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
      next(new Worker(threadCode(), { eval: true, workerData: this.setup, env }));
      return;
    }
    if (worker) {
      // An idle thread must not keep the process alive.
      worker.unref();
      this.idle.push(worker);
    }
  }
}

const pools = new Map<string, PartThreadPool>();

/**
 * Prepares one part in a worker thread, so that the parts one worker process takes use every core
 * (a part is CPU-bound: parse, render, JSON, Parquet). Progress comes back as heartbeats; a
 * cancelled activity's thread is terminated.
 */
export function preparePartInThread(
  settings: ThreadSettings & { hub: HubSettings },
  job: PartJob,
  heartbeat: (progress: PartProgress) => void,
  signal?: AbortSignal,
): Promise<PreparedPart> {
  const setup: PartThreadSetup = { s3: settings.s3, hub: settings.hub };
  const key = JSON.stringify([settings.threads, setup]);
  let pool = pools.get(key);
  if (!pool) {
    pool = new PartThreadPool(settings.threads, setup);
    pools.set(key, pool);
  }
  return pool.run(job, heartbeat, signal);
}
