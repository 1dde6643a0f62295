import {
  BedrockClient,
  BedrockServiceException,
  CreateModelInvocationJobCommand,
  CreateModelInvocationJobCommandInput,
  GetModelInvocationJobCommand,
  GetModelInvocationJobCommandOutput,
} from '@aws-sdk/client-bedrock';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startMotoServer, MotoServer } from '../../src/localstack/moto';
import { BedrockEmulator, EmulatorOptions, startBedrockEmulator } from '../../src/emulator';

export const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
export const REGION = 'us-east-1';
export const ROLE = 'arn:aws:iam::123456789012:role/BedrockBatch';
/** AWS batch runs Claude 3 Haiku by its bare id in us-east-1 and eu-west-1 (config/batch-models.json). */
export const CLAUDE = 'anthropic.claude-3-haiku-20240307-v1:0';
export const TITAN = 'amazon.titan-embed-text-v2:0';
export const IN_BUCKET = 'emu-input';
export const OUT_BUCKET = 'emu-output';

/** Small timings so each test job finishes in well under a second. */
export const FAST = { submittedMs: 20, validatingMs: 20, scheduledMs: 20, inProgressMs: 150 };

export interface Env {
  moto: MotoServer;
  s3: S3Client;
  start(opts?: Partial<EmulatorOptions>): Promise<{ emulator: BedrockEmulator; bedrock: BedrockClient }>;
  stop(): Promise<void>;
}

/** One moto server per test file; emulators started through `start` are closed by `stop`. */
export async function startEnv(): Promise<Env> {
  const moto = await startMotoServer();
  const s3 = new S3Client({
    endpoint: moto.endpoint,
    region: REGION,
    credentials: CREDENTIALS,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await s3.send(new CreateBucketCommand({ Bucket: IN_BUCKET }));
  await s3.send(new CreateBucketCommand({ Bucket: OUT_BUCKET }));
  const running: Array<{ emulator: BedrockEmulator; bedrock: BedrockClient }> = [];
  return {
    moto,
    s3,
    async start(opts = {}) {
      const emulator = await startBedrockEmulator({
        s3: { endpoint: moto.endpoint, region: REGION, credentials: CREDENTIALS },
        timing: FAST,
        ...opts,
      });
      const bedrock = new BedrockClient({ endpoint: emulator.url, region: REGION, credentials: CREDENTIALS });
      running.push({ emulator, bedrock });
      return { emulator, bedrock };
    },
    async stop() {
      for (const r of running.splice(0)) {
        r.bedrock.destroy();
        await r.emulator.close();
      }
      s3.destroy();
      await moto.stop();
    },
  };
}

export function claudeInput(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    anthropic_version: 'bedrock-2023-05-31',
    max_tokens: 256,
    messages: [{ role: 'user', content: [{ type: 'text', text: `Summarise item number ${i} in one sentence.` }] }],
    ...extra,
  };
}

export const recordId = (i: number) => String(i).padStart(11, '0');

export function claudeRecords(n: number, start = 0): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, k) => ({ recordId: recordId(start + k), modelInput: claudeInput(start + k) }));
}

export function titanRecords(n: number, extra: Record<string, unknown> = {}): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, k) => ({ recordId: recordId(k), modelInput: { inputText: `document ${k} text`, ...extra } }));
}

export async function putJsonl(s3: S3Client, key: string, records: unknown[], bucket = IN_BUCKET): Promise<string> {
  const body = records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return `s3://${bucket}/${key}`;
}

export async function readText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return res.Body!.transformToString();
}

/**
 * One parsed line of a job's output or manifest. Its shape depends on the model family and the tests
 * read it deep and assert that shape themselves: a declared type would only repeat those assertions.
 */
// biome-ignore lint/suspicious/noExplicitAny: parsed JSON of many shapes, checked by the assertions that read it
export type JsonLine = Record<string, any>;

export async function readJsonl(s3: S3Client, bucket: string, key: string): Promise<JsonLine[]> {
  const text = await readText(s3, bucket, key);
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (res.Contents ?? []).map((o) => o.Key!).sort();
}

export const jobIdOf = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

let nameCounter = 0;
export const uniqueName = (base = 'job') => `${base}-${Date.now().toString(36)}-${++nameCounter}`;

export async function createJob(
  bedrock: BedrockClient,
  input: Partial<CreateModelInvocationJobCommandInput> & { inputUri: string; outputUri?: string },
): Promise<string> {
  const { inputUri, outputUri, ...rest } = input;
  const res = await bedrock.send(
    new CreateModelInvocationJobCommand({
      jobName: uniqueName(),
      roleArn: ROLE,
      modelId: CLAUDE,
      inputDataConfig: { s3InputDataConfig: { s3Uri: inputUri, s3InputFormat: 'JSONL' } },
      outputDataConfig: { s3OutputDataConfig: { s3Uri: outputUri ?? `s3://${OUT_BUCKET}/out/` } },
      ...rest,
    }),
  );
  return res.jobArn!;
}

const TERMINAL = ['Completed', 'PartiallyCompleted', 'Failed', 'Stopped', 'Expired'];

export async function waitForStatus(
  bedrock: BedrockClient,
  jobArn: string,
  statuses: string[] = TERMINAL,
  timeoutMs = 10_000,
): Promise<GetModelInvocationJobCommandOutput> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: jobArn }));
    if (statuses.includes(job.status!)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobArn} still ${job.status} after ${timeoutMs} ms (wanted ${statuses.join('|')})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Captures a rejected promise's error (a Bedrock client call's, here) for assertions on class and message. */
export async function errorOf(p: Promise<unknown>): Promise<BedrockServiceException> {
  try {
    await p;
  } catch (err) {
    return err as BedrockServiceException;
  }
  throw new Error('expected the call to fail');
}
