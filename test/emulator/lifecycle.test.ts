import {
  GetModelInvocationJobCommand,
  ListTagsForResourceCommand,
  ResourceNotFoundException,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-bedrock';
import { anthropicAnswerText, titanEmbedding } from '../../src/emulator';
import type { TransitionEvent } from '../../src/emulator';
import {
  CLAUDE,
  Env,
  IN_BUCKET,
  OUT_BUCKET,
  TITAN,
  claudeRecords,
  createJob,
  errorOf,
  jobIdOf,
  listKeys,
  putJsonl,
  readJsonl,
  recordId,
  startEnv,
  titanRecords,
  uniqueName,
  waitForStatus,
} from './helpers';

let env: Env;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env?.stop();
});

describe('a Claude job end to end', () => {
  test('walks every status, writes shuffled outputs and a manifest that match the input', async () => {
    const events: TransitionEvent[] = [];
    const { bedrock, emulator } = await env.start({ onTransition: (e) => events.push(e) });
    const records = claudeRecords(150);
    // One record asks for so few tokens that the answer must be cut short.
    records[7] = { recordId: recordId(7), modelInput: { ...(records[7].modelInput as object), max_tokens: 2 } };
    const inputUri = await putJsonl(env.s3, 'claude/batch1.jsonl', records);
    const before = Date.now();
    const arn = await createJob(bedrock, { inputUri, outputUri: `s3://${OUT_BUCKET}/results`, timeoutDurationInHours: 48 });

    expect(arn).toMatch(/^arn:aws:bedrock:us-east-1:123456789012:model-invocation-job\/[a-z0-9]{12}$/);
    const first = await bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: arn }));
    expect(first.status).toBe('Submitted');
    expect(first.submitTime).toBeInstanceOf(Date);
    expect(first.endTime).toBeUndefined();
    expect(first.timeoutDurationInHours).toBe(48);
    expect(first.jobExpirationTime!.getTime() - first.submitTime!.getTime()).toBe(48 * 3_600_000);

    const done = await waitForStatus(bedrock, arn);
    expect(done.status).toBe('Completed');
    expect(done.endTime!.getTime()).toBeGreaterThanOrEqual(before);
    expect(done.lastModifiedTime!.getTime()).toBe(done.endTime!.getTime());
    expect(done.message).toBeUndefined();
    expect(done.modelInvocationType).toBe('InvokeModel');
    expect(done.inputDataConfig?.s3InputDataConfig?.s3Uri).toBe(inputUri);
    expect([done.totalRecordCount, done.processedRecordCount, done.successRecordCount, done.errorRecordCount]).toEqual([150, 150, 150, 0]);
    expect(events.filter((e) => e.jobArn === arn).map((e) => e.to)).toEqual(['Submitted', 'Validating', 'Scheduled', 'InProgress', 'Completed']);

    const jobId = jobIdOf(arn);
    expect(await listKeys(env.s3, OUT_BUCKET, `results/${jobId}/`)).toEqual([`results/${jobId}/batch1.jsonl.out`, `results/${jobId}/manifest.json.out`]);
    const lines = await readJsonl(env.s3, OUT_BUCKET, `results/${jobId}/batch1.jsonl.out`);
    expect(lines).toHaveLength(150);
    const ids = lines.map((l) => l.recordId);
    expect(new Set(ids).size).toBe(150);
    expect([...ids].sort()).toEqual(records.map((r) => r.recordId));
    expect(ids).not.toEqual(records.map((r) => r.recordId)); // shuffled

    const byId = new Map(lines.map((l) => [l.recordId, l]));
    let inputTokens = 0;
    let outputTokens = 0;
    for (const r of records) {
      const line = byId.get(r.recordId as string)!;
      expect(Object.keys(line)).toEqual(['recordId', 'modelInput', 'modelOutput']);
      expect(line.modelInput).toEqual(r.modelInput);
      const out = line.modelOutput;
      expect(out).toMatchObject({ type: 'message', role: 'assistant', model: 'claude-3-haiku-20240307', stop_sequence: null });
      expect(out.id).toMatch(/^msg_bdrk_[0-9a-f]+$/);
      expect(out.content).toEqual([{ type: 'text', text: anthropicAnswerText(r.modelInput) }]);
      inputTokens += out.usage.input_tokens;
      outputTokens += out.usage.output_tokens;
    }
    const truncated = byId.get(recordId(7))!.modelOutput;
    expect(truncated.stop_reason).toBe('max_tokens');
    expect(truncated.content[0].text).toHaveLength(8);
    expect(truncated.usage.output_tokens).toBe(2);
    expect(byId.get(recordId(8))!.modelOutput.stop_reason).toBe('end_turn');
    expect(anthropicAnswerText(records[8].modelInput)).toContain('Summarise item number 8');

    const [manifest] = await readJsonl(env.s3, OUT_BUCKET, `results/${jobId}/manifest.json.out`);
    expect(manifest).toEqual({
      totalRecordCount: 150,
      processedRecordCount: 150,
      successRecordCount: 150,
      errorRecordCount: 0,
      inputTokenCount: inputTokens,
      outputTokenCount: outputTokens,
    });
    expect(emulator.stats()).toMatchObject({ createRequests: 1, jobsCreated: 1, activeJobs: 0, peakActiveJobs: 1 });
    expect(emulator.stats().jobs).toEqual([expect.objectContaining({ jobArn: arn, status: 'Completed', modelId: CLAUDE, recordCount: 150 })]);
  });

  test('identical input gives identical answers; shuffleOutput:false keeps input order', async () => {
    const { bedrock } = await env.start({ shuffleOutput: false });
    const inputUri = await putJsonl(env.s3, 'determinism/in.jsonl', claudeRecords(100));
    const a = await createJob(bedrock, { inputUri });
    const b = await createJob(bedrock, { inputUri });
    await waitForStatus(bedrock, a);
    await waitForStatus(bedrock, b);
    const la = await readJsonl(env.s3, OUT_BUCKET, `out/${jobIdOf(a)}/in.jsonl.out`);
    const lb = await readJsonl(env.s3, OUT_BUCKET, `out/${jobIdOf(b)}/in.jsonl.out`);
    expect(la.map((l) => l.recordId)).toEqual(claudeRecords(100).map((r) => r.recordId));
    expect(la).toEqual(lb);
  });
});

describe('a Titan Text Embeddings V2 job', () => {
  test('answers each record with a deterministic vector in the Titan response shape', async () => {
    const { bedrock } = await env.start();
    const records = titanRecords(100, { dimensions: 256 });
    records[3] = { recordId: recordId(3), modelInput: { inputText: 'raw vector', dimensions: 512, normalize: false } };
    records[4] = { recordId: recordId(4), modelInput: { inputText: 'default size' } };
    const inputUri = await putJsonl(env.s3, 'titan/part.jsonl', records);
    const arn = await createJob(bedrock, { inputUri, modelId: TITAN });
    const done = await waitForStatus(bedrock, arn);
    expect(done.status).toBe('Completed');

    const lines = await readJsonl(env.s3, OUT_BUCKET, `out/${jobIdOf(arn)}/part.jsonl.out`);
    const byId = new Map(lines.map((l) => [l.recordId, l]));
    const out0 = byId.get(recordId(0))!.modelOutput;
    expect(Object.keys(out0).sort()).toEqual(['embedding', 'embeddingsByType', 'inputTextTokenCount']);
    expect(out0.embedding).toHaveLength(256);
    expect(out0.embeddingsByType.float).toEqual(out0.embedding);
    expect(out0.inputTextTokenCount).toBe(Math.ceil('document 0 text'.length / 4));
    expect(out0.embedding).toEqual(titanEmbedding(records[0].modelInput));
    expect(Math.hypot(...out0.embedding)).toBeCloseTo(1, 6);
    expect(byId.get(recordId(1))!.modelOutput.embedding).not.toEqual(out0.embedding);

    const raw = byId.get(recordId(3))!.modelOutput.embedding as number[];
    expect(raw).toHaveLength(512);
    expect(Math.abs(Math.hypot(...raw) - 1)).toBeGreaterThan(0.5);
    expect(byId.get(recordId(4))!.modelOutput.embedding).toHaveLength(1024);

    const [manifest] = await readJsonl(env.s3, OUT_BUCKET, `out/${jobIdOf(arn)}/manifest.json.out`);
    expect(manifest.outputTokenCount).toBe(0);
    expect(manifest.inputTokenCount).toBe(lines.reduce((n, l) => n + l.modelOutput.inputTextTokenCount, 0));
  });
});

describe('inputs and records', () => {
  test('a prefix of several .jsonl files gives one .out per file; missing recordIds are generated; bad bodies become error lines', async () => {
    const { bedrock } = await env.start();
    const good = claudeRecords(60);
    const noIds = claudeRecords(40, 60).map((r) => ({ modelInput: r.modelInput }));
    const bad = [
      { recordId: 'bad-version', modelInput: { ...(good[0].modelInput as object), anthropic_version: 'bedrock-2099' } },
      { recordId: 'no-max', modelInput: { anthropic_version: 'bedrock-2023-05-31', messages: [{ role: 'user', content: 'hi' }] } },
      { recordId: 'no-messages', modelInput: { anthropic_version: 'bedrock-2023-05-31', max_tokens: 5, messages: [] } },
      { recordId: 'no-input' },
    ];
    await putJsonl(env.s3, 'multi/a.jsonl', good);
    await putJsonl(env.s3, 'multi/sub/b.jsonl', [...noIds, ...bad]);
    const arn = await createJob(bedrock, { inputUri: `s3://${IN_BUCKET}/multi/` });
    const done = await waitForStatus(bedrock, arn);
    expect(done.status).toBe('Completed'); // record errors do not fail or partially complete a job
    expect([done.totalRecordCount, done.successRecordCount, done.errorRecordCount]).toEqual([104, 100, 4]);

    const jobId = jobIdOf(arn);
    expect(await listKeys(env.s3, OUT_BUCKET, `out/${jobId}/`)).toEqual([
      `out/${jobId}/a.jsonl.out`,
      `out/${jobId}/manifest.json.out`,
      `out/${jobId}/sub/b.jsonl.out`,
    ]);
    const b = await readJsonl(env.s3, OUT_BUCKET, `out/${jobId}/sub/b.jsonl.out`);
    expect(b).toHaveLength(44);
    const generated = b.filter((l) => /^[A-Za-z0-9]{11}$/.test(l.recordId) && l.modelOutput);
    expect(generated).toHaveLength(40);
    expect(new Set(generated.map((l) => l.recordId)).size).toBe(40);

    const errors = new Map(b.filter((l) => l.error).map((l) => [l.recordId, l]));
    expect([...errors.keys()].sort()).toEqual(['bad-version', 'no-input', 'no-max', 'no-messages']);
    for (const e of errors.values()) {
      expect(Object.keys(e)).toEqual(e.recordId === 'no-input' ? ['recordId', 'error'] : ['recordId', 'modelInput', 'error']);
      expect(e.error.errorCode).toBe(400);
    }
    expect(errors.get('no-max')!.error.errorMessage).toBe(
      'Malformed input request: #: required key [max_tokens] not found, please reformat your input and try again.',
    );
    expect(errors.get('no-messages')!.error.errorMessage).toMatch(/#\/messages: expected minimum item count: 1/);
    expect(errors.get('bad-version')!.error.errorMessage).toMatch(/anthropic_version/);
    const [manifest] = await readJsonl(env.s3, OUT_BUCKET, `out/${jobId}/manifest.json.out`);
    expect(manifest).toMatchObject({ totalRecordCount: 104, processedRecordCount: 104, successRecordCount: 100, errorRecordCount: 4 });
  });

  test('a Converse job answers in the Converse response shape', async () => {
    const { bedrock } = await env.start();
    const records = Array.from({ length: 100 }, (_, i) => ({
      recordId: recordId(i),
      modelInput: { messages: [{ role: 'user', content: [{ text: `question ${i}` }] }], inferenceConfig: { maxTokens: 100 } },
    }));
    const inputUri = await putJsonl(env.s3, 'converse/in.jsonl', records);
    const arn = await createJob(bedrock, { inputUri, modelInvocationType: 'Converse', modelId: 'us.anthropic.claude-3-5-haiku-20241022-v1:0' });
    const done = await waitForStatus(bedrock, arn);
    expect(done.modelInvocationType).toBe('Converse');
    const lines = await readJsonl(env.s3, OUT_BUCKET, `out/${jobIdOf(arn)}/in.jsonl.out`);
    const line = lines.find((l) => l.recordId === recordId(5))!;
    expect(line.modelOutput.output.message).toEqual({ role: 'assistant', content: [{ text: anthropicAnswerText(records[5].modelInput) }] });
    expect(line.modelOutput.stopReason).toBe('end_turn');
    const u = line.modelOutput.usage;
    expect(u.totalTokens).toBe(u.inputTokens + u.outputTokens);
  });
});

describe('job identifiers', () => {
  test('Get accepts the ARN and the bare id, URL-encoded by the SDK, but not the name', async () => {
    const { bedrock } = await env.start();
    const inputUri = await putJsonl(env.s3, 'ids/in.jsonl', claudeRecords(100));
    const jobName = uniqueName('ids');
    const arn = await createJob(bedrock, { inputUri, jobName });
    const byArn = await bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: arn }));
    const byId = await bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: jobIdOf(arn) }));
    expect(byArn.jobArn).toBe(arn);
    expect(byId.jobArn).toBe(arn);
    expect(byId.jobName).toBe(jobName);

    const byName = await errorOf(bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: jobName })));
    expect(byName).toBeInstanceOf(ResourceNotFoundException);
    expect(byName.$metadata.httpStatusCode).toBe(404);
    const otherAccount = arn.replace('123456789012', '210987654321');
    expect(await errorOf(bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: otherAccount })))).toBeInstanceOf(ResourceNotFoundException);
    await waitForStatus(bedrock, arn);
  });
});

describe('tags', () => {
  test('tags given at Create can be listed, added and removed', async () => {
    const { bedrock } = await env.start();
    const inputUri = await putJsonl(env.s3, 'tags/in.jsonl', claudeRecords(100));
    const arn = await createJob(bedrock, { inputUri, tags: [{ key: 'team', value: 'search' }] });
    await bedrock.send(new TagResourceCommand({ resourceARN: arn, tags: [{ key: 'env', value: 'test' }, { key: 'team', value: 'ml' }] }));
    expect((await bedrock.send(new ListTagsForResourceCommand({ resourceARN: arn }))).tags).toEqual([
      { key: 'team', value: 'ml' },
      { key: 'env', value: 'test' },
    ]);
    await bedrock.send(new UntagResourceCommand({ resourceARN: arn, tagKeys: ['team'] }));
    expect((await bedrock.send(new ListTagsForResourceCommand({ resourceARN: arn }))).tags).toEqual([{ key: 'env', value: 'test' }]);
    const missing = arn.replace(/[a-z0-9]{12}$/, 'zzzzzzzzzzzz');
    expect(await errorOf(bedrock.send(new ListTagsForResourceCommand({ resourceARN: missing })))).toBeInstanceOf(ResourceNotFoundException);
    await waitForStatus(bedrock, arn);
  });
});
