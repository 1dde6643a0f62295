import type { AddressInfo } from 'node:net';
import { freePort } from '../localstack/ports';
import { DEFAULT_MODEL_CATALOG_FILE, ModelCatalog } from './catalog';
import { EventPublisher, EventsOptions } from './events';
import type { Faults } from './faults';
import { DEFAULT_TIMING, EngineStats, JobEngine, Timing, TransitionEvent } from './jobEngine';
import { makeS3Client } from './s3';
import { createBedrockServer } from './server';

export type { Faults } from './faults';
export type { EventsOptions, EventStats } from './events';
export type { TransitionEvent } from './jobEngine';
export { anthropicAnswerText, emulatedAnswerText, emulatedEmbedding, titanEmbedding } from './models';

export interface EmulatorOptions {
  host?: string;
  port?: number;
  region?: string;
  accountId?: string;
  s3: { endpoint?: string; region?: string; credentials?: { accessKeyId: string; secretAccessKey: string } };
  /** hourMs is the length of one hour of timeoutDurationInHours. */
  timing?: Partial<Timing>;
  /** Default true: output lines come out in a deterministic order different from the input's. */
  shuffleOutput?: boolean;
  /** Default 20: Create answers ServiceQuotaExceededException beyond this many Submitted..Stopping jobs of one modelId. */
  maxActiveJobsPerModel?: number;
  /** Page size when List has no maxResults (default 10, small so clients meet nextToken). */
  defaultListPageSize?: number;
  /** The model catalog (default config/batch-models.json): which ids exist in `region` and where batch runs them. */
  modelCatalogFile?: string;
  /** Called on every job status change, including creation (from undefined). */
  onTransition?: (event: TransitionEvent) => void;
  /** Publish every job status change as Bedrock's EventBridge event to this SQS queue (off when unset). */
  events?: EventsOptions;
}

export type EmulatorStats = EngineStats;

export interface BedrockEmulator {
  url: string;
  port: number;
  stats(): EmulatorStats;
  setFaults(f: Faults): void;
  resetStats(): void;
  close(): Promise<void>;
}

export async function startBedrockEmulator(opts: EmulatorOptions): Promise<BedrockEmulator> {
  const host = opts.host ?? '127.0.0.1';
  const region = opts.region ?? 'us-east-1';
  const s3 = makeS3Client(opts.s3, region);
  const accountId = opts.accountId ?? '123456789012';
  const events = opts.events ? new EventPublisher(opts.events, { region, accountId }) : undefined;
  const engine = new JobEngine(s3, {
    region,
    accountId,
    catalog: ModelCatalog.load(opts.modelCatalogFile ?? DEFAULT_MODEL_CATALOG_FILE, region, accountId),
    timing: { ...DEFAULT_TIMING, ...opts.timing },
    shuffleOutput: opts.shuffleOutput ?? true,
    maxActiveJobsPerModel: opts.maxActiveJobsPerModel ?? 20,
    onTransition: opts.onTransition,
    events,
  });
  const server = createBedrockServer(engine, opts.defaultListPageSize ?? 10);
  const port = opts.port ?? (await freePort(host));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    stats: () => engine.stats(),
    setFaults: (f) => engine.faults.set(f),
    resetStats: () => engine.resetStats(),
    close: () =>
      (closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await engine.close();
        await events?.close();
        await serverClosed;
        s3.destroy();
      })()),
  };
}
