import { GetModelInvocationJobCommand, ServiceQuotaExceededException } from '@aws-sdk/client-bedrock';
import { Env, claudeRecords, createJob, errorOf, putJsonl, startEnv, waitForStatus } from './helpers';

/** The counters measurement tests read: quota refusals, Get calls (per job), and each job's submit and end times. */
let env: Env;
let inputUri: string;
beforeAll(async () => {
  env = await startEnv();
  inputUri = await putJsonl(env.s3, 'stats/in.jsonl', claudeRecords(100));
});
afterAll(async () => {
  await env?.stop();
});

test('a Create refused for quota is counted in quotaRefusals; an accepted one is not', async () => {
  const { bedrock, emulator } = await env.start({ maxActiveJobsPerModel: 1, timing: { submittedMs: 20, validatingMs: 20, scheduledMs: 20, inProgressMs: 300 } });
  const first = await createJob(bedrock, { inputUri });
  expect(emulator.stats().quotaRefusals).toBe(0);
  expect(await errorOf(createJob(bedrock, { inputUri }))).toBeInstanceOf(ServiceQuotaExceededException);
  expect(await errorOf(createJob(bedrock, { inputUri }))).toBeInstanceOf(ServiceQuotaExceededException);
  expect(emulator.stats()).toMatchObject({ createRequests: 3, jobsCreated: 1, quotaRefusals: 2 });
  await waitForStatus(bedrock, first);
  await createJob(bedrock, { inputUri });
  expect(emulator.stats()).toMatchObject({ createRequests: 4, jobsCreated: 2, quotaRefusals: 2 });
  emulator.resetStats();
  expect(emulator.stats().quotaRefusals).toBe(0);
});

test('Get calls are counted in all and per job; each job carries its submit and end times', async () => {
  const { bedrock, emulator } = await env.start();
  const before = Date.now();
  const a = await createJob(bedrock, { inputUri });
  const b = await createJob(bedrock, { inputUri });
  expect(emulator.stats().getRequests).toBe(0);
  await bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: a }));
  await bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: a }));
  await bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: b }));
  const stats = emulator.stats();
  expect(stats.getRequests).toBe(3);
  const byArn = new Map(stats.jobs.map((j) => [j.jobArn, j]));
  expect(byArn.get(a)).toMatchObject({ getRequests: 2 });
  expect(byArn.get(b)).toMatchObject({ getRequests: 1 });
  expect(byArn.get(a)!.submitMs).toBeGreaterThanOrEqual(before);
  expect(byArn.get(a)!.endMs).toBeUndefined();

  // waitForStatus polls with Get: its calls count too, and the end time is the one Get reports.
  const ended = await waitForStatus(bedrock, a);
  const after = emulator.stats().jobs.find((j) => j.jobArn === a)!;
  expect(after.endMs).toBe(ended.endTime!.getTime());
  expect(after.submitMs).toBe(ended.submitTime!.getTime());
  expect(after.getRequests).toBeGreaterThan(2);
  expect(emulator.stats().getRequests).toBe(after.getRequests + 1);

  emulator.resetStats();
  expect(emulator.stats().getRequests).toBe(0);
  expect(emulator.stats().jobs.every((j) => j.getRequests === 0)).toBe(true);
});
