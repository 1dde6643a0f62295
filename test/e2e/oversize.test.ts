import { startBatchRun } from '../../src/client/api';
import { estimateRunInput } from '../../src/client/estimate';
import { loadPriceTable, loadRunDefaults } from '../../src/config';
import { readObjectText } from '../../src/io/s3';
import type { RunInput } from '../../src/shared/types';
import { sampleRows, uploadCsv } from '../support/data';
import { listKeys, readRunOutput } from '../support/output';
import { ROLE_ARN, localStackWithWorker } from '../support/runs';
import { TEMPLATES_DIR } from '../support/worker';

const env = localStackWithWorker();
const TITAN = 'amazon.titan-embed-text-v2:0';
const deps = () => ({ s3: env.stack.s3, bedrock: env.stack.bedrock, templatesDir: TEMPLATES_DIR, defaults: loadRunDefaults(), prices: loadPriceTable(), hub: { endpoint: 'http://127.0.0.1:9' } });

// Over Titan V2's 50,000-character limit; and under it, but ~29k tokens by the approximation (digits cost 2/3 a token each).
const TOO_MANY_CHARS = 'lorem ipsum '.repeat(5000);
const TOO_MANY_TOKENS = '1234567890 '.repeat(4000);

function embedRun(name: string, extra: Partial<RunInput> = {}): RunInput {
  return {
    input: { s3Uri: `s3://datasets/${name}.csv` },
    task: 'embedding',
    modelId: TITAN,
    modelParams: { dimensions: 256 },
    outputUri: `s3://results/${name}`,
    roleArn: ROLE_ARN,
    pollIntervalSeconds: 1,
    runName: name,
    ...extra,
  };
}

async function upload(name: string, rows: number, oversize: Record<number, string>) {
  const data = sampleRows(rows).map((r, i) => (oversize[i] === undefined ? r : { ...r, input_text: oversize[i] }));
  await uploadCsv(env.stack.s3, `s3://datasets/${name}.csv`, data);
  return data;
}

/** Record ids in every Bedrock input JSONL the run wrote. */
async function idsSentToBedrock(name: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const key of await listKeys(env.stack.s3, `s3://results/${name}/`)) {
    if (!key.includes('/bedrock-input/') || !key.endsWith('.jsonl')) continue;
    for (const line of (await readObjectText(env.stack.s3, `s3://results/${key}`)).split('\n')) {
      if (line) ids.add((JSON.parse(line) as { recordId: string }).recordId);
    }
  }
  return ids;
}

test('records over the model limit become RECORD_TOO_LARGE rows; every other row is answered, none is sent', async () => {
  const name = 'oversize-embed';
  const oversize = { 5: TOO_MANY_CHARS, 60: TOO_MANY_TOKENS, 120: TOO_MANY_TOKENS, 200: TOO_MANY_CHARS };
  const rows = await upload(name, 250, oversize);
  const input = embedRun(name, { maxRecordsPerJob: 125 });

  const estimate = await estimateRunInput(deps(), input);
  expect(estimate).toMatchObject({ records: 250, jobs: 2, rejectedBeforeSubmit: 4 });

  const jobsBefore = new Set(env.stack.emulator.stats().jobs.map((j) => j.jobArn));
  const summary = await (await startBatchRun(env.worker.client, input)).result();
  expect(summary).toMatchObject({ outcome: 'complete_with_errors', rows: 250, succeeded: 246, failed: 4, recordErrors: 4, unanswered: 0, rejectedBeforeSubmit: 4 });

  // Records kept out before submit are not re-driven: no "0 record(s) left …" note, no on-demand step.
  expect(JSON.stringify(summary.partialShards ?? [])).not.toMatch(/0 record\(s\) left without an answer/);
  const out = await readRunOutput(env.stack.s3, summary.outputUris);
  // Every row once, in input order, with its input columns.
  expect(out.map((r) => r.id)).toEqual(rows.map((r) => r.id));
  expect(out.map((r) => r.record_id)).toEqual(rows.map((_, i) => String(i).padStart(11, '0')));
  expect(out.map((r) => r.input_text)).toEqual(rows.map((r) => r.input_text));
  const rejected = out.filter((r) => r.error_code !== null);
  expect(rejected.map((r) => r.id)).toEqual(['row-5', 'row-60', 'row-120', 'row-200']);
  expect(rejected.every((r) => r.error_code === 'RECORD_TOO_LARGE' && r.embedding === null)).toBe(true);
  expect(rejected[0].error_message).toBe(`prompt is 60,000 characters, over the 50,000-character input limit of ${TITAN}`);
  expect(rejected[1].error_message).toMatch(new RegExp(`^prompt is ~[\\d,]+ tokens \\(estimated with approx-chars\\), over the 8,192-token input limit of ${TITAN.replace(/\./g, '\\.')}$`));
  expect(out.filter((r) => r.error_code === null).every((r) => (r.embedding as { length: number } | null)?.length === 256)).toBe(true);

  // Bedrock never saw them: not in any input file, and its jobs held only the other 246.
  const sent = await idsSentToBedrock(name);
  expect(sent.size).toBe(246);
  for (const r of rejected) expect(sent.has(r.record_id as string)).toBe(false);
  const jobs = env.stack.emulator.stats().jobs.filter((j) => !jobsBefore.has(j.jobArn));
  expect(jobs.reduce((n, j) => n + (j.recordCount ?? 0), 0)).toBe(246);
});

test('a shard left under 100 records to send is not submitted: its rows say why, the run still ends', async () => {
  const name = 'oversize-small-shard';
  const rows = await upload(name, 101, { 3: TOO_MANY_TOKENS, 4: TOO_MANY_CHARS });
  const jobsBefore = env.stack.emulator.stats().jobsCreated;
  const summary = await (await startBatchRun(env.worker.client, embedRun(name))).result();
  expect(env.stack.emulator.stats().jobsCreated).toBe(jobsBefore);
  expect(summary).toMatchObject({ outcome: 'incomplete', rows: 101, succeeded: 0, failed: 101, recordErrors: 2, unanswered: 99, rejectedBeforeSubmit: 2 });
  const out = await readRunOutput(env.stack.s3, summary.outputUris);
  expect(out.map((r) => r.id)).toEqual(rows.map((r) => r.id));
  expect(out.filter((r) => r.error_code === 'RECORD_TOO_LARGE').map((r) => r.id)).toEqual(['row-3', 'row-4']);
  const refused = out.filter((r) => r.error_code === 'SUBMIT_REJECTED');
  expect(refused).toHaveLength(99);
  expect(refused[0].error_message).toBe(
    "shard 0 has 99 record(s) to send after 2 of its 101 were kept out as RECORD_TOO_LARGE; Bedrock takes at least 100 records a job, so no job was created for it",
  );
});
