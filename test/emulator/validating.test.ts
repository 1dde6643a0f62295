import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { TransitionEvent } from '../../src/emulator';
import { DEFAULT_LIMITS, InputError, validateInput } from '../../src/emulator/input';
import { Env, IN_BUCKET, OUT_BUCKET, claudeRecords, createJob, jobIdOf, listKeys, putJsonl, readJsonl, startEnv, waitForStatus } from './helpers';

let env: Env;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env?.stop();
});

async function failedWith(inputUri: string, outputUri?: string): Promise<string> {
  const events: TransitionEvent[] = [];
  const { bedrock } = await env.start({ onTransition: (e) => events.push(e) });
  const arn = await createJob(bedrock, { inputUri, outputUri });
  const job = await waitForStatus(bedrock, arn);
  expect(job.status).toBe('Failed');
  expect(job.endTime).toBeInstanceOf(Date);
  expect(events.map((e) => e.to)).toEqual(['Submitted', 'Validating', 'Failed']);
  expect(await listKeys(env.s3, OUT_BUCKET, `out/${jobIdOf(arn)}/`)).toEqual([]);
  return job.message!;
}

describe('Validating fails the job (not Create) when the input breaks the rules', () => {
  test('fewer than 100 records', async () => {
    const uri = await putJsonl(env.s3, 'few/in.jsonl', claudeRecords(99));
    expect(await failedWith(uri)).toBe('The job has 99 records, fewer than the minimum of 100 records required for a batch inference job.');
  });

  test('the minimum counts records across all files of a prefix', async () => {
    await putJsonl(env.s3, 'split/a.jsonl', claudeRecords(50));
    await putJsonl(env.s3, 'split/b.jsonl', claudeRecords(50, 50));
    const { bedrock } = await env.start();
    const arn = await createJob(bedrock, { inputUri: `s3://${IN_BUCKET}/split` });
    const job = await waitForStatus(bedrock, arn);
    expect(job.status).toBe('Completed');
    expect(job.totalRecordCount).toBe(100);
  });

  test('a missing input object or empty prefix', async () => {
    expect(await failedWith(`s3://${IN_BUCKET}/nothing/here.jsonl`)).toMatch(/No input files found at s3:\/\/emu-input\/nothing\/here.jsonl/);
  });

  test('a file that is not .jsonl', async () => {
    await env.s3.send(new PutObjectCommand({ Bucket: IN_BUCKET, Key: 'csv/data.csv', Body: 'a,b\n' }));
    expect(await failedWith(`s3://${IN_BUCKET}/csv/data.csv`)).toMatch(/not a \.jsonl file/);
    await putJsonl(env.s3, 'mixed/ok.jsonl', claudeRecords(100));
    await env.s3.send(new PutObjectCommand({ Bucket: IN_BUCKET, Key: 'mixed/notes.txt', Body: 'x' }));
    expect(await failedWith(`s3://${IN_BUCKET}/mixed/`)).toMatch(/mixed\/notes\.txt, which is not a \.jsonl file/);
  });

  test('a line that is not a JSON object', async () => {
    const lines: unknown[] = claudeRecords(120);
    lines[41] = '{"recordId": "broken", "modelInput": {';
    const uri = await putJsonl(env.s3, 'badline/in.jsonl', lines);
    expect(await failedWith(uri)).toBe('Line 42 of s3://emu-input/badline/in.jsonl is not a valid JSON object. Each line of a batch input file must be one JSON object.');
    const arrays = await putJsonl(env.s3, 'arrayline/in.jsonl', [...claudeRecords(100), '[1,2]']);
    expect(await failedWith(arrays)).toMatch(/Line 101 .* not a valid JSON object/);
  });

  test('an output bucket that does not exist', async () => {
    const uri = await putJsonl(env.s3, 'nobucket/in.jsonl', claudeRecords(100));
    expect(await failedWith(uri, 's3://no-such-output-bucket/out/')).toMatch(/output S3 bucket no-such-output-bucket does not exist/);
  });
});

describe('record and byte quotas (limits scaled down to test them)', () => {
  test('per-file and per-job record maxima, file and job byte maxima', async () => {
    const a = await putJsonl(env.s3, 'quota/a.jsonl', claudeRecords(30));
    await putJsonl(env.s3, 'quota/b.jsonl', claudeRecords(30, 30));
    const out = `s3://${OUT_BUCKET}/out/`;
    const limits = { ...DEFAULT_LIMITS, minRecordsPerJob: 1 };
    await expect(validateInput(env.s3, a, out, { ...limits, maxRecordsPerFile: 29 })).rejects.toThrow(/has more than 29 records, the maximum per file/);
    await expect(validateInput(env.s3, `s3://${IN_BUCKET}/quota/`, out, { ...limits, maxRecordsPerJob: 50 })).rejects.toThrow(
      /more than 50 records, the maximum per batch inference job/,
    );
    await expect(validateInput(env.s3, a, out, { ...limits, maxFileBytes: 1000 })).rejects.toThrow(/exceeds the maximum file size of 1000 bytes/);
    await expect(validateInput(env.s3, `s3://${IN_BUCKET}/quota/`, out, { ...limits, maxJobBytes: 10_000 })).rejects.toThrow(
      /exceeds the maximum job size of 10000 bytes/,
    );
    await expect(validateInput(env.s3, a, out, { ...limits, maxFileBytes: 1000 })).rejects.toBeInstanceOf(InputError);
    const files = await validateInput(env.s3, `s3://${IN_BUCKET}/quota/`, out, limits);
    expect(files.map((f) => [f.relativeName, f.records])).toEqual([
      ['a.jsonl', 30],
      ['b.jsonl', 30],
    ]);
  });
});

describe('timeouts', () => {
  test('a job still Scheduled at submitTime + timeout ends Expired without outputs', async () => {
    const events: TransitionEvent[] = [];
    // hourMs 10: the default 24 h timeout is 240 ms, and the job waits 5 s in Scheduled.
    const { bedrock } = await env.start({ timing: { submittedMs: 10, validatingMs: 10, scheduledMs: 5000, hourMs: 10 }, onTransition: (e) => events.push(e) });
    const uri = await putJsonl(env.s3, 'expire/in.jsonl', claudeRecords(100));
    const arn = await createJob(bedrock, { inputUri: uri });
    const job = await waitForStatus(bedrock, arn, undefined, 3000);
    expect(job.status).toBe('Expired');
    expect(job.message).toMatch(/did not start within its timeout of 24 hours/);
    expect(job.endTime!.getTime()).toBeGreaterThanOrEqual(job.jobExpirationTime!.getTime());
    expect(events.map((e) => e.to)).toEqual(['Submitted', 'Validating', 'Scheduled', 'Expired']);
    expect(await listKeys(env.s3, OUT_BUCKET, `out/${jobIdOf(arn)}/`)).toEqual([]);
  });

  test('an expiry that passes during Validating expires the job as soon as it is Scheduled', async () => {
    const { bedrock } = await env.start({ timing: { submittedMs: 10, validatingMs: 100, scheduledMs: 10, hourMs: 1 } });
    const uri = await putJsonl(env.s3, 'expire2/in.jsonl', claudeRecords(100));
    const arn = await createJob(bedrock, { inputUri: uri });
    expect((await waitForStatus(bedrock, arn)).status).toBe('Expired');
  });

  test('a job InProgress at the timeout ends PartiallyCompleted with the processed records written', async () => {
    const { bedrock } = await env.start({ timing: { submittedMs: 10, validatingMs: 10, scheduledMs: 10, inProgressMs: 1000, hourMs: 12 } });
    const records = claudeRecords(200);
    const uri = await putJsonl(env.s3, 'partial/in.jsonl', records);
    const arn = await createJob(bedrock, { inputUri: uri });
    const job = await waitForStatus(bedrock, arn, undefined, 3000);
    expect(job.status).toBe('PartiallyCompleted');
    expect(job.message).toMatch(/timeout of 24 hours/);
    const processed = job.processedRecordCount!;
    expect(processed).toBeGreaterThan(0);
    expect(processed).toBeLessThan(200);
    const lines = await readJsonl(env.s3, OUT_BUCKET, `out/${jobIdOf(arn)}/in.jsonl.out`);
    expect(lines).toHaveLength(processed);
    // Records are taken in input order, so the processed ones are a prefix of the input.
    expect(lines.map((l) => l.recordId).sort()).toEqual(records.slice(0, processed).map((r) => r.recordId));
    const [manifest] = await readJsonl(env.s3, OUT_BUCKET, `out/${jobIdOf(arn)}/manifest.json.out`);
    expect(manifest).toMatchObject({ totalRecordCount: 200, processedRecordCount: processed, successRecordCount: processed });
  });
});
