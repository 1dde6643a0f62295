import {
  BedrockClient,
  CreateModelInvocationJobCommand,
  ServiceQuotaExceededException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock';
import { CLAUDE, CREDENTIALS, Env, REGION, IN_BUCKET, OUT_BUCKET, ROLE, TITAN, claudeRecords, createJob, errorOf, putJsonl, startEnv, uniqueName, waitForStatus } from './helpers';

let env: Env;
let inputUri: string;
beforeAll(async () => {
  env = await startEnv();
  inputUri = await putJsonl(env.s3, 'create/in.jsonl', claudeRecords(100));
});
afterAll(async () => {
  await env?.stop();
});

function request(overrides: Record<string, unknown> = {}) {
  return {
    jobName: uniqueName(),
    roleArn: ROLE,
    modelId: CLAUDE,
    inputDataConfig: { s3InputDataConfig: { s3Uri: inputUri, s3InputFormat: 'JSONL' } },
    outputDataConfig: { s3OutputDataConfig: { s3Uri: `s3://${OUT_BUCKET}/out/` } },
    ...overrides,
  } as ConstructorParameters<typeof CreateModelInvocationJobCommand>[0];
}

async function validationError(bedrock: BedrockClient, overrides: Record<string, unknown>): Promise<string> {
  const err = await errorOf(bedrock.send(new CreateModelInvocationJobCommand(request(overrides))));
  expect(err).toBeInstanceOf(ValidationException);
  expect(err.name).toBe('ValidationException');
  expect(err.$metadata.httpStatusCode).toBe(400);
  expect(err.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  return err.message;
}

describe('Create validation', () => {
  test('rejects bad job names, roles, tokens, URIs and formats with the constraint that failed', async () => {
    const { bedrock, emulator } = await env.start();
    expect(await validationError(bedrock, { jobName: 'has_underscore' })).toBe(
      "1 validation error detected: Value 'has_underscore' at 'jobName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9\\+\\-\\.]){0,63}",
    );
    expect(await validationError(bedrock, { jobName: '-leading-dash' })).toMatch(/at 'jobName'.*regular expression/);
    expect(await validationError(bedrock, { jobName: 'a'.repeat(64) })).toMatch(/at 'jobName' .*length less than or equal to 63/);
    expect(await validationError(bedrock, { jobName: 'with space' })).toMatch(/'jobName'/);
    expect(await validationError(bedrock, { roleArn: 'arn:aws:iam::123:user/x' })).toMatch(/at 'roleArn'/);
    expect(await validationError(bedrock, { clientRequestToken: 'tok_en' })).toMatch(/at 'clientRequestToken'/);
    expect(await validationError(bedrock, { clientRequestToken: 'trailing-' })).toMatch(/at 'clientRequestToken'/);
    expect(
      await validationError(bedrock, { inputDataConfig: { s3InputDataConfig: { s3Uri: `s3://${IN_BUCKET}/a b.jsonl`, s3InputFormat: 'JSONL' } } }),
    ).toMatch(/at 'inputDataConfig.s3InputDataConfig.s3Uri'/);
    expect(await validationError(bedrock, { outputDataConfig: { s3OutputDataConfig: { s3Uri: 'https://bucket/out' } } })).toMatch(
      /at 'outputDataConfig.s3OutputDataConfig.s3Uri'/,
    );
    expect(await validationError(bedrock, { inputDataConfig: { s3InputDataConfig: { s3Uri: inputUri, s3InputFormat: 'CSV' } } })).toMatch(
      /enum value set: \[JSONL\]/,
    );
    expect(await validationError(bedrock, { modelInvocationType: 'Stream' })).toMatch(/at 'modelInvocationType'/);
    // Two problems are reported together, as AWS does.
    expect(await validationError(bedrock, { jobName: 'bad_name', roleArn: 'nope' })).toMatch(/^2 validation errors detected: .*'jobName'.*; .*'roleArn'/);
    expect(emulator.stats()).toMatchObject({ createRequests: 12, jobsCreated: 0 });
  });

  test('timeoutDurationInHours must be 24..168 and defaults to 24', async () => {
    const { bedrock } = await env.start();
    expect(await validationError(bedrock, { timeoutDurationInHours: 23 })).toMatch(
      /Value '23' at 'timeoutDurationInHours' failed to satisfy constraint: Member must have value greater than or equal to 24/,
    );
    expect(await validationError(bedrock, { timeoutDurationInHours: 169 })).toMatch(/less than or equal to 168/);
    const arn = (await bedrock.send(new CreateModelInvocationJobCommand(request()))).jobArn!;
    const job = await waitForStatus(bedrock, arn);
    expect(job.timeoutDurationInHours).toBe(24);
  });

  test('unknown model families are refused; inference-profile ids and model ARNs are accepted', async () => {
    const { bedrock } = await env.start();
    expect(await validationError(bedrock, { modelId: 'ai21.jamba-1-5-large-v1:0' })).toBe('The provided request is not valid');
    expect(await validationError(bedrock, { modelId: 'amazon.titan-embed-text-v1' })).toBe('The provided request is not valid');
    expect(await validationError(bedrock, { modelId: TITAN, modelInvocationType: 'Converse' })).toMatch(/does not support the Converse/);
    for (const modelId of [
      'us.anthropic.claude-3-5-haiku-20241022-v1:0',
      'global.anthropic.claude-sonnet-4-5-20250929-v1:0',
      `arn:aws:bedrock:us-east-1::foundation-model/${CLAUDE}`,
      `arn:aws:bedrock:us-east-1::foundation-model/${TITAN}`,
      'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.meta.llama3-1-8b-instruct-v1:0',
    ]) {
      await expect(bedrock.send(new CreateModelInvocationJobCommand(request({ modelId })))).resolves.toHaveProperty('jobArn');
    }
  });

  test('the model must exist in the Region and batch must run it there, in that form', async () => {
    const { bedrock, emulator } = await env.start();
    const before = emulator.stats().jobsCreated;
    // Names nothing in us-east-1: a made-up id, a retired one, one offered in us-west-2 only, an eu. profile, a model ARN of another Region.
    for (const modelId of [
      'anthropic.claude-nonexistent-v9:0',
      'meta.llama2-13b-chat-v1',
      'mistral.mistral-large-2407-v1:0',
      `eu.${CLAUDE}`,
      'global.amazon.nova-lite-v1:0',
      `arn:aws:bedrock:us-west-2::foundation-model/${CLAUDE}`,
    ]) {
      expect(await validationError(bedrock, { modelId })).toBe('The provided model identifier is invalid.');
    }
    // Real here, but batch does not run it here in that form: AWS's opaque answer.
    for (const modelId of [`us.${CLAUDE}`, 'anthropic.claude-3-5-haiku-20241022-v1:0', 'amazon.nova-canvas-v1:0']) {
      expect(await validationError(bedrock, { modelId })).toBe('The provided request is not valid');
    }
    expect(emulator.stats().jobsCreated).toBe(before);
  });
});

describe('idempotency and names', () => {
  test('a repeated clientRequestToken returns the original ARN and creates nothing', async () => {
    const { bedrock, emulator } = await env.start();
    const token = 'a1b2c3d4-0000-4000-8000-0123456789ab';
    const first = await createJob(bedrock, { inputUri, clientRequestToken: token });
    const again = await createJob(bedrock, { inputUri, clientRequestToken: token, jobName: uniqueName('other') });
    expect(again).toBe(first);
    expect(emulator.stats()).toMatchObject({ createRequests: 2, jobsCreated: 1 });
    expect(emulator.stats().jobs).toEqual([expect.objectContaining({ jobArn: first, clientRequestToken: token })]);
  });

  test('a second job with a name in use is a ValidationException', async () => {
    const { bedrock, emulator } = await env.start();
    const jobName = uniqueName('dup');
    const arn = await createJob(bedrock, { inputUri, jobName });
    const err = await errorOf(createJob(bedrock, { inputUri, jobName }));
    expect(err).toBeInstanceOf(ValidationException);
    expect(err.message).toMatch(/job name .* is currently in use/);
    expect(emulator.stats().jobsCreated).toBe(1);
    await waitForStatus(bedrock, arn);
    // Names stay taken after the job ends: Bedrock never deletes jobs.
    expect(await errorOf(createJob(bedrock, { inputUri, jobName }))).toBeInstanceOf(ValidationException);
  });
});

describe('quotas and throttling', () => {
  test('Create beyond maxActiveJobsPerModel is ServiceQuotaExceededException until a job ends', async () => {
    const { bedrock, emulator } = await env.start({ maxActiveJobsPerModel: 2, timing: { submittedMs: 20, validatingMs: 20, scheduledMs: 20, inProgressMs: 400 } });
    const a = await createJob(bedrock, { inputUri });
    await createJob(bedrock, { inputUri });
    const err = await errorOf(createJob(bedrock, { inputUri }));
    expect(err).toBeInstanceOf(ServiceQuotaExceededException);
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(err.message).toMatch(/quota of 2/);
    // The quota is per model: another model still has room.
    await expect(createJob(bedrock, { inputUri, modelId: TITAN })).resolves.toMatch(/model-invocation-job/);
    expect(emulator.stats()).toMatchObject({ jobsCreated: 3, activeJobs: 3 });
    await waitForStatus(bedrock, a);
    await expect(createJob(bedrock, { inputUri })).resolves.toMatch(/model-invocation-job/);
  });

  test('throttled Creates are retried by the SDK with the same token, creating one job', async () => {
    const { bedrock, emulator } = await env.start();
    emulator.setFaults({ throttleNextCreates: 2 });
    const res = await bedrock.send(new CreateModelInvocationJobCommand(request()));
    expect(res.$metadata.attempts).toBe(3);
    expect(emulator.stats()).toMatchObject({ createRequests: 3, jobsCreated: 1 });
    expect(emulator.stats().createRequests).toBeGreaterThan(emulator.stats().jobsCreated);

    // Without retries the throttle surfaces as the modeled class.
    emulator.setFaults({ throttleNextCreates: 1 });
    const noRetry = new BedrockClient({ endpoint: emulator.url, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
    const err = await errorOf(noRetry.send(new CreateModelInvocationJobCommand(request())));
    noRetry.destroy();
    expect(err).toBeInstanceOf(ThrottlingException);
    expect(err.$metadata.httpStatusCode).toBe(429);
    expect(emulator.stats()).toMatchObject({ createRequests: 4, jobsCreated: 1 });
  });
});

describe('wire format', () => {
  test('errors carry x-amzn-ErrorType, x-amzn-RequestId and a body with only message', async () => {
    const { emulator } = await env.start();
    const res = await fetch(`${emulator.url}/model-invocation-job`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jobName: 'x' }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/');
    expect(res.headers.get('x-amzn-requestid')).toBeTruthy();
    const body = (await res.json()) as { message: string };
    expect(Object.keys(body)).toEqual(['message']);
    expect(body.message).toMatch(/validation errors? detected/);

    const missing = await fetch(`${emulator.url}/model-invocation-job/abcdefabcdef`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-amzn-errortype')).toMatch(/^ResourceNotFoundException:/);
  });
});
