import { Env, claudeRecords, createJob, putJsonl, startEnv, uniqueName, waitForStatus } from './helpers';

let env: Env;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env?.stop();
});

async function call(url: string, method: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown>; errorType: string | null }> {
  const res = await fetch(url, { method, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  // Every answer of these routes, errors included, is a JSON object.
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, errorType: res.headers.get('x-amzn-ErrorType') };
}

test('faults and stats over HTTP, for a stack the test does not hold in-process', async () => {
  const { emulator, bedrock } = await env.start();
  const set = await call(`${emulator.url}/_emulator/faults`, 'POST', { failJobsNamed: ['boom'], throttleNextCreates: 0 });
  expect(set).toMatchObject({ status: 200, json: { faults: { failJobsNamed: ['boom'], throttleNextCreates: 0 } } });
  expect((await call(`${emulator.url}/_emulator/faults`, 'GET')).json).toEqual({ faults: { failJobsNamed: ['boom'], throttleNextCreates: 0 } });

  const inputUri = await putJsonl(env.s3, 'controls/in.jsonl', claudeRecords(100));
  const arn = await createJob(bedrock, { inputUri, jobName: uniqueName('boom') });
  expect((await waitForStatus(bedrock, arn)).status).toBe('Failed');

  const stats = await call(`${emulator.url}/_emulator/stats`, 'GET');
  expect(stats.status).toBe(200);
  expect(stats.json).toMatchObject({ createRequests: 1, jobsCreated: 1, jobs: [expect.objectContaining({ jobArn: arn, status: 'Failed' })] });
  expect(stats.json).toEqual(emulator.stats());
  expect((await call(`${emulator.url}/_emulator/stats/reset`, 'POST')).json).toMatchObject({ createRequests: 0, jobsCreated: 0 });

  // Replacing with {} clears every fault.
  expect((await call(`${emulator.url}/_emulator/faults`, 'POST', {})).json).toEqual({ faults: {} });
});

test('a bad faults body is refused, naming the field, and changes nothing', async () => {
  const { emulator } = await env.start();
  emulator.setFaults({ recordErrorEvery: 7 });
  for (const [body, message] of [
    [{ stopJobsNamed: 'x' }, /stopJobsNamed must be an array of strings/],
    [{ failNextJobs: -1 }, /failNextJobs must be a non-negative integer/],
    [{ failJobNamed: ['x'] }, /unknown fault "failJobNamed"/],
    [{ jobMsNamed: ['-s00001-a1'] }, /jobMsNamed entries must read part=ms/],
    ['[1]', /faults must be a JSON object/],
    ['{not json', /not valid JSON/],
  ] as const) {
    const res = await call(`${emulator.url}/_emulator/faults`, 'POST', body);
    expect(res.status).toBe(400);
    expect(res.errorType).toMatch(/^ValidationException:/);
    expect(res.json.message).toMatch(message);
  }
  expect((await call(`${emulator.url}/_emulator/faults`, 'GET')).json).toEqual({ faults: { recordErrorEvery: 7 } });
  expect((await call(`${emulator.url}/_emulator/nothing`, 'GET')).status).toBe(404);
});
