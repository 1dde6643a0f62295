import { Context, asyncLocalStorage } from '@temporalio/activity';
import { Field, Int32, Schema, Utf8, vectorFromArray } from 'apache-arrow';
import { anthropicAnswerText } from '../../src/emulator';
import { startBatchRun } from '../../src/client/api';
import { estimateRunInput } from '../../src/client/estimate';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { PartProgress, PartShard, makePrepareParts, preparePartFiles } from '../../src/activities/prepareParts';
import { resumedShards } from '../../src/activities/partCheckpoint';
import { partProgressUri } from '../../src/shared/paths';
import { makeResolveRun } from '../../src/activities/resolveRun';
import { recordBatchOf, utf8Data } from '../../src/io/arrowColumns';
import { writeParquetToS3 } from '../../src/io/parquetWrite';
import { headObject, parseS3Uri, readObjectText, writeObject } from '../../src/io/s3';
import { loadPriceTable, loadRunDefaults } from '../../src/config';
import { RunInput } from '../../src/shared/types';
import { sampleRows, uploadCsv } from '../support/data';
import { LocalStack, startLocalStack } from '../support/localStack';
import { listKeys, readRunOutput } from '../support/output';
import { RunningWorker, TEMPLATES_DIR, startWorker } from '../support/worker';

let stack: LocalStack;
let worker: RunningWorker;
const CSV_ROWS = 3000;
const CSV = 's3://datasets/parts.csv';
const PARQUET_ROWS = 2400;
const PARQUET = 's3://datasets/parts.parquet';
const SIX_HUNDRED = 's3://datasets/six-hundred.csv';
const SIX_HUNDRED_TEN = 's3://datasets/six-hundred-ten.csv';

const deps = () => ({
  s3: stack.s3,
  bedrock: stack.bedrock,
  templatesDir: TEMPLATES_DIR,
  defaults: loadRunDefaults(),
  prices: loadPriceTable(),
  hub: { endpoint: 'http://127.0.0.1:9' },
});

const base = {
  task: 'text' as const,
  promptId: 'joke_about_topic',
  modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
  modelParams: { maxTokens: 100 },
  roleArn: 'arn:aws:iam::123456789012:role/BedrockBatchRole',
  maxRecordsPerJob: 400,
  pollIntervalSeconds: 1,
};

/** Runs `fn` as an activity would (a retry when given its last attempt's heartbeat details), counting its heartbeats. */
function inActivity<T>(fn: () => Promise<T>, heartbeats: unknown[], heartbeatDetails?: unknown): Promise<T> {
  const info = { activityType: 'test', attempt: heartbeatDetails === undefined ? 1 : 2, heartbeatDetails, heartbeatTimeoutMs: 30_000, workflowExecution: { workflowId: 't', runId: 't' } } as unknown as ConstructorParameters<typeof Context>[0];
  const noop = () => undefined;
  const logger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop } as unknown as ConstructorParameters<typeof Context>[5];
  const ctx = new Context(info, new Promise<never>(noop), new AbortController().signal, (d) => heartbeats.push(d), undefined, logger, undefined as never, {} as never);
  return asyncLocalStorage.run(ctx, fn);
}

type ShardsJson = { rowCount: number; shards: Array<{ index: number; records: number; part: number }> };

async function runOf(summary: { manifestUri: string }): Promise<{ runUri: string; shards: ShardsJson }> {
  const runUri = summary.manifestUri.replace(/\/output\/_manifest\.json$/, '');
  return { runUri, shards: JSON.parse(await readObjectText(stack.s3, `${runUri}/shards.json`)) as ShardsJson };
}

type PartManifestJson = { rows: number; columns: string[]; tokenizer: { kind: string }; shards: PartShard[] };

/** Two manifests of one part: the same shards, files and counts; token counts (sampled past the first rows) within 2%. */
function expectSameManifest(actual: PartManifestJson, expected: PartManifestJson): void {
  const exact = (m: PartManifestJson) => ({ ...m, tokenizer: m.tokenizer.kind, shards: m.shards.map(({ inputTokens, ...s }) => s) });
  expect(exact(actual)).toEqual(exact(expected));
  actual.shards.forEach((s, i) => {
    expect(Math.abs(s.inputTokens - expected.shards[i].inputTokens)).toBeLessThanOrEqual(expected.shards[i].inputTokens * 0.02);
  });
}

/** The part manifests under `prepare/` (a part that ran for a while also left its checkpoint there). */
async function partManifestKeys(runUri: string): Promise<string[]> {
  return (await listKeys(stack.s3, `${runUri}/prepare/`)).filter((k) => /part-\d+\.json$/.test(k));
}

function expectedResponse(topic: string): string {
  const prompt = `Tell me a short, family-friendly joke about ${topic}.`;
  return anthropicAnswerText({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, messages: [{ role: 'user', content: [{ type: 'text', text: prompt }] }] });
}

beforeAll(async () => {
  stack = await startLocalStack({ inProgressMs: 300 });
  // Two threads: parts run in worker threads, as `npm run worker` does on a multi-core machine.
  worker = await startWorker(stack, undefined, { threads: 2 });
  await uploadCsv(stack.s3, CSV, sampleRows(CSV_ROWS));
  await uploadCsv(stack.s3, SIX_HUNDRED, sampleRows(600));
  await uploadCsv(stack.s3, SIX_HUNDRED_TEN, sampleRows(610));
  const schema = new Schema([new Field('n', new Int32(), false), new Field('topic', new Utf8(), true)]);
  const batches = Array.from({ length: 8 }, (_, b) => {
    const ids = Array.from({ length: PARQUET_ROWS / 8 }, (_, i) => b * (PARQUET_ROWS / 8) + i);
    return recordBatchOf(schema, [vectorFromArray(ids, new Int32()).data[0], utf8Data(ids.map((i) => `topic ${i}`))]);
  });
  await writeParquetToS3(stack.s3, PARQUET, batches, { maxRowGroupRows: 300 });
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

test('a CSV bigger than one part is cut at record boundaries into parallel parts, and every row comes back once, in order', async () => {
  const input: RunInput = { ...base, input: { s3Uri: CSV }, outputUri: 's3://results/csv-parts', partBytes: 20_000, prepareConcurrency: 3 };
  const handle = await startBatchRun(worker.client, input);
  const summary = await handle.result();
  expect(summary).toMatchObject({ rows: CSV_ROWS, succeeded: CSV_ROWS, failed: 0 });

  const runUri = summary.manifestUri.replace(/\/output\/_manifest\.json$/, '');
  const partManifests = await partManifestKeys(runUri);
  expect(partManifests.length).toBeGreaterThan(3);
  const shards = JSON.parse(await readObjectText(stack.s3, `${runUri}/shards.json`)) as { rowCount: number; shards: Array<{ index: number; records: number; part: number }> };
  expect(shards.rowCount).toBe(CSV_ROWS);
  expect(shards.shards.map((s) => s.index)).toEqual(shards.shards.map((_, i) => i));
  expect(new Set(shards.shards.map((s) => s.part)).size).toBe(partManifests.length);
  for (const s of shards.shards) expect(s.records).toBeGreaterThanOrEqual(100);
  expect(summary.shards).toBe(shards.shards.length);

  const rows = sampleRows(CSV_ROWS);
  const out = await readRunOutput(stack.s3, summary.outputUris);
  expect(out.map((r) => r.id)).toEqual(rows.map((r) => r.id));
  // Record ids stay row positions across parts; quoted commas, quotes and newlines survive the cuts.
  expect(out.map((r) => r.record_id)).toEqual(rows.map((_, i) => String(i).padStart(11, '0')));
  expect(out.map((r) => r.topic)).toEqual(rows.map((r) => r.topic));
  for (const i of [0, 1, 7, 9, 1234, CSV_ROWS - 1]) expect(out[i].response).toBe(expectedResponse(rows[i].topic));

  // The estimate plans the same parts and shards as the run, writing nothing.
  const estimate = await estimateRunInput(deps(), input);
  expect(estimate).toMatchObject({ records: CSV_ROWS, jobs: summary.shards });
  expect(estimate.shards.map((s) => s.records)).toEqual(shards.shards.map((s) => s.records));
});

test('a Parquet file is cut by row groups into parts; maxRecords ends the run inside a part', async () => {
  const input: RunInput = { ...base, input: { s3Uri: PARQUET }, outputUri: 's3://results/parquet-parts', partBytes: 1, maxRecords: 2000 };
  const summary = await (await startBatchRun(worker.client, input)).result();
  expect(summary).toMatchObject({ rows: 2000, succeeded: 2000 });
  const runUri = summary.manifestUri.replace(/\/output\/_manifest\.json$/, '');
  // partBytes 1: a part per shard; 2,000 rows at 400 records a job make 5 shards, so 5 parts.
  expect((await partManifestKeys(runUri)).length).toBe(5);
  const out = await readRunOutput(stack.s3, summary.outputUris);
  expect(out.map((r) => r.n)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
  expect(out[1999].response).toBe(expectedResponse('topic 1999'));
});

test('a retried part resumes after the shards its last heartbeat recorded instead of writing them again', async () => {
  const run = await makeResolveRun(deps())({ ...base, input: { s3Uri: PARQUET }, outputUri: 's3://results/resume', maxRecordsPerJob: 300 });
  const { planPreparation, combineParts } = makePrepareParts(deps());
  const plan = await planPreparation(run);
  expect(plan.parts).toHaveLength(1);
  const part = plan.parts[0];

  // First attempt: dies right after a heartbeat that counts two or more shards (as a crashed worker would).
  let last: PartProgress | undefined;
  const crash = new Error('worker lost');
  await expect(
    preparePartFiles(
      deps(),
      run,
      part,
      [],
      (progress) => {
        last = progress;
        if (progress.shardsDone >= 2) throw crash;
      },
      { checkpointEveryMs: 0 },
    ),
  ).rejects.toBe(crash);
  // The heartbeat carries a reference and counts only; the shards' entries are in the checkpoint.
  expect(last).toEqual({ progressUri: partProgressUri(run.runUri, 0), shardsDone: expect.any(Number) });
  const done = last!.shardsDone;
  expect(done).toBeGreaterThanOrEqual(2);
  const resume = await resumedShards(stack.s3, last!.progressUri, part.index, last);
  expect(resume.map((s) => s.records)).toEqual(Array(done).fill(300));
  // Removed here so that a retry which wrote the shard again would be seen.
  const firstJsonl = resume[0].jsonlUri;
  const { bucket, key } = parseS3Uri(firstJsonl);
  await stack.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));

  // Retry from that checkpoint: it starts at row 300 × done and leaves the written shards alone.
  const reported: PartProgress[] = [];
  const result = await preparePartFiles(deps(), run, part, resume, (progress) => reported.push(progress), { checkpointEveryMs: 0 });
  expect(result).toMatchObject({ rows: PARQUET_ROWS, shards: 8 });
  expect(await headObject(stack.s3, firstJsonl)).toBeUndefined();
  expect(reported.every((p) => p.shardsDone >= done)).toBe(true);
  const resumedManifest = JSON.parse(await readObjectText(stack.s3, result.manifestUri)) as PartManifestJson;
  const prepared = await combineParts({ run, parts: [result] });
  expect(prepared).toMatchObject({ rowCount: PARQUET_ROWS, shardCount: 8 });
  const manifest = JSON.parse(await readObjectText(stack.s3, prepared.shardManifestUri)) as { shards: Array<{ jsonlUri: string }> };
  const next = await readObjectText(stack.s3, manifest.shards[done].jsonlUri);
  expect(JSON.parse(next.split('\n')[0]).recordId).toBe(String(300 * done).padStart(11, '0'));
  expect(next.trim().split('\n')).toHaveLength(300);

  // The same part prepared in one go writes the same part manifest (token counts past the first
  // rows are sampled, from where the scan starts, so those are estimates of the same prompts).
  await preparePartFiles(deps(), run, part, [], () => undefined);
  expectSameManifest(resumedManifest, JSON.parse(await readObjectText(stack.s3, result.manifestUri)) as PartManifestJson);
});

test('preparePart resumes from the heartbeat details of a checkpointing attempt and of an older, inline one', async () => {
  const run = await makeResolveRun(deps())({ ...base, input: { s3Uri: PARQUET }, outputUri: 's3://results/resume-activity', maxRecordsPerJob: 300 });
  const { planPreparation, preparePart } = makePrepareParts(deps());
  const part = (await planPreparation(run)).parts[0];
  const whole = await preparePartFiles(deps(), run, part, [], () => undefined);
  const expected = JSON.parse(await readObjectText(stack.s3, whole.manifestUri)) as PartManifestJson;
  const entries = expected.shards;
  expect(entries).toHaveLength(8);
  const progressUri = partProgressUri(run.runUri, part.index);

  for (const details of [
    // An attempt of this version: a checkpoint holding three shards (or more), three heartbeated.
    { progressUri, shardsDone: 3, rows: 1000 },
    // An attempt of the previous version: the entries inline. The retry checkpoints them before heartbeating.
    { done: entries.slice(0, 3), rows: 1000 },
  ]) {
    await writeObject(stack.s3, progressUri, JSON.stringify({ part: part.index, shards: entries.slice(0, 'done' in details ? 0 : 5) }));
    // Removed so that rewriting a resumed shard would be seen.
    const { bucket, key } = parseS3Uri(entries[0].jsonlUri);
    await stack.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    const beats: PartProgress[] = [];
    const result = await inActivity(() => preparePart({ run, part }), beats as unknown[], details);
    expect(result).toMatchObject({ rows: PARQUET_ROWS, shards: 8 });
    expect(await headObject(stack.s3, entries[0].jsonlUri)).toBeUndefined();
    const manifest = JSON.parse(await readObjectText(stack.s3, result.manifestUri)) as PartManifestJson;
    expect(manifest.shards.slice(0, 3)).toEqual(entries.slice(0, 3));
    expectSameManifest(manifest, expected);
    expect(beats.length).toBeGreaterThan(0);
    for (const beat of beats) {
      expect(beat).toMatchObject({ progressUri, shardsDone: expect.any(Number) });
      expect(beat.shardsDone).toBeGreaterThanOrEqual(3);
    }
    // What the heartbeats refer to is there: a retry now would resume after the three shards.
    expect(await resumedShards(stack.s3, progressUri, part.index, beats[0])).toEqual(entries.slice(0, beats[0].shardsDone));
  }
  // No checkpoint (deleted, say) and no heartbeat: the part starts over.
  const checkpoint = parseS3Uri(progressUri);
  await stack.s3.send(new DeleteObjectCommand({ Bucket: checkpoint.bucket, Key: checkpoint.key }));
  expect(await resumedShards(stack.s3, progressUri, part.index, { progressUri, shardsDone: 3 })).toEqual([]);
  expect(await resumedShards(stack.s3, progressUri, part.index, undefined)).toEqual([]);
});

test('part boundaries never break a valid run: 600 CSV rows in parts of 4096 bytes, 100 records a job', async () => {
  const input: RunInput = { ...base, input: { s3Uri: SIX_HUNDRED }, outputUri: 's3://results/tiny-parts', partBytes: 4096, maxRecordsPerJob: 100, prepareConcurrency: 3 };
  const summary = await (await startBatchRun(worker.client, input)).result();
  expect(summary).toMatchObject({ rows: 600, succeeded: 600, failed: 0, shards: 6 });
  const { runUri, shards } = await runOf(summary);
  expect(shards.shards.map((s) => s.records)).toEqual([100, 100, 100, 100, 100, 100]);
  expect(new Set(shards.shards.map((s) => s.part)).size).toBe((await partManifestKeys(runUri)).length);
  expect(new Set(shards.shards.map((s) => s.part)).size).toBeGreaterThan(1);

  const rows = sampleRows(600);
  const out = await readRunOutput(stack.s3, summary.outputUris);
  expect(out.map((r) => r.id)).toEqual(rows.map((r) => r.id));
  expect(out.map((r) => r.record_id)).toEqual(rows.map((_, i) => String(i).padStart(11, '0')));
  expect(out[599].response).toBe(expectedResponse(rows[599].topic));

  // The estimate plans the run's shards, and partBytes does not change them.
  for (const partBytes of [4096, 1, undefined]) {
    const estimate = await estimateRunInput(deps(), { ...input, partBytes });
    expect(estimate.shards.map((s) => s.records)).toEqual(shards.shards.map((s) => s.records));
  }
});

test('Parquet parts that start and end inside row groups read only their own rows', async () => {
  // Row groups of 300 rows, shards of 240 (2,400 rows at 250 a job): every other part starts mid-group.
  const input: RunInput = { ...base, input: { s3Uri: PARQUET }, outputUri: 's3://results/mid-group', partBytes: 1, maxRecordsPerJob: 250 };
  const plan = await makePrepareParts(deps()).planPreparation(await makeResolveRun(deps())(input));
  expect(plan.parts).toHaveLength(10);
  expect(plan.parts.some((p) => p.kind === 'rowGroups' && (p.leadingRows ?? 0) > 0)).toBe(true);

  const summary = await (await startBatchRun(worker.client, input)).result();
  expect(summary).toMatchObject({ rows: PARQUET_ROWS, succeeded: PARQUET_ROWS, failed: 0, shards: 10 });
  const { shards } = await runOf(summary);
  expect(shards.shards.map((s) => s.records)).toEqual(Array(10).fill(240));
  const out = await readRunOutput(stack.s3, summary.outputUris);
  expect(out.map((r) => r.n)).toEqual(Array.from({ length: PARQUET_ROWS }, (_, i) => i));
  expect(out.map((r) => r.record_id)).toEqual(out.map((_, i) => String(i).padStart(11, '0')));
  expect(out[1234].response).toBe(expectedResponse('topic 1234'));

  const estimate = await estimateRunInput(deps(), input);
  expect(estimate.shards.map((s) => s.records)).toEqual(shards.shards.map((s) => s.records));
});

test('a small CSV read whole counts its rows first and cuts the shards a scanned one does; planning and combining heartbeat', async () => {
  // 610 rows at 120 a job: filling jobs to 120 would leave 10 rows that no job can take.
  const input: RunInput = { ...base, input: { s3Uri: SIX_HUNDRED_TEN }, outputUri: 's3://results/whole', maxRecordsPerJob: 120 };
  const run = await makeResolveRun(deps())(input);
  const { planPreparation, combineParts } = makePrepareParts(deps());
  const plan = await planPreparation(run);
  expect(plan.parts).toEqual([{ index: 0, kind: 'whole', firstRow: 0 }]);
  const part = await preparePartFiles(deps(), run, plan.parts[0], [], () => undefined);
  const combineBeats: unknown[] = [];
  const prepared = await inActivity(() => combineParts({ run, parts: [part] }), combineBeats);
  expect(combineBeats.length).toBeGreaterThan(0);
  expect(prepared).toMatchObject({ rowCount: 610, shardCount: 6 });
  const manifest = JSON.parse(await readObjectText(stack.s3, prepared.shardManifestUri)) as ShardsJson;
  expect(manifest.shards.map((s) => s.records)).toEqual([102, 102, 102, 102, 101, 101]);

  // The same file scanned into parts (it is bigger than 4096 bytes) plans the same shards, heartbeating its scan.
  const planBeats: unknown[] = [];
  const scanned = await inActivity(() => planPreparation({ ...run, partBytes: 4096 }), planBeats);
  expect(scanned.parts.length).toBeGreaterThan(1);
  expect(scanned.parts.every((p) => p.kind === 'csvRange')).toBe(true);
  expect(planBeats.length).toBeGreaterThan(0);
  for (const partBytes of [4096, undefined]) {
    const estimate = await estimateRunInput(deps(), { ...input, partBytes });
    expect(estimate.shards.map((s) => s.records)).toEqual([102, 102, 102, 102, 101, 101]);
  }
});
