import { GetModelInvocationJobCommand, ListModelInvocationJobsCommand, ResourceNotFoundException, StopModelInvocationJobCommand } from '@aws-sdk/client-bedrock';
import type { TransitionEvent } from '../../src/emulator';
import { Env, OUT_BUCKET, claudeRecords, createJob, errorOf, jobIdOf, listKeys, putJsonl, readJsonl, startEnv, uniqueName, waitForStatus } from './helpers';

let env: Env;
let inputUri: string;
beforeAll(async () => {
  env = await startEnv();
  inputUri = await putJsonl(env.s3, 'jobfaults/in.jsonl', claudeRecords(200));
});
afterAll(async () => {
  await env?.stop();
});

const statuses = (events: TransitionEvent[], arn: string) => events.filter((e) => e.jobArn === arn).map((e) => e.to);

async function outputsOf(arn: string) {
  const lines = await readJsonl(env.s3, OUT_BUCKET, `out/${jobIdOf(arn)}/in.jsonl.out`);
  const [manifest] = await readJsonl(env.s3, OUT_BUCKET, `out/${jobIdOf(arn)}/manifest.json.out`);
  return { lines, manifest };
}

test('stopJobsNamed: the job stops itself at about half its records, as if Stop were called, with partial outputs', async () => {
  const events: TransitionEvent[] = [];
  const { bedrock, emulator } = await env.start({ onTransition: (e) => events.push(e) });
  emulator.setFaults({ stopJobsNamed: ['halt'] });
  const arn = await createJob(bedrock, { inputUri, jobName: uniqueName('will-halt') });
  const other = await createJob(bedrock, { inputUri });
  const job = await waitForStatus(bedrock, arn);
  expect(job.status).toBe('Stopped');
  expect(statuses(events, arn)).toEqual(['Submitted', 'Validating', 'Scheduled', 'InProgress', 'Stopping', 'Stopped']);
  expect(job.processedRecordCount).toBe(100);
  const { lines, manifest } = await outputsOf(arn);
  expect(lines).toHaveLength(100);
  expect(manifest).toMatchObject({ totalRecordCount: 200, processedRecordCount: 100, successRecordCount: 100 });
  // No Stop request was made: the fault is the job's own doing.
  expect(emulator.stats().stopRequests).toBe(0);
  expect((await waitForStatus(bedrock, other)).status).toBe('Completed');
});

test('expireJobsNamed: the job stays Scheduled, then ends Expired with no outputs, though hourMs is an hour', async () => {
  const events: TransitionEvent[] = [];
  const { bedrock, emulator } = await env.start({ onTransition: (e) => events.push(e), timing: { scheduledMs: 100 } });
  emulator.setFaults({ expireJobsNamed: ['lapse'] });
  const arn = await createJob(bedrock, { inputUri, jobName: uniqueName('will-lapse') });
  const job = await waitForStatus(bedrock, arn);
  expect(job.status).toBe('Expired');
  expect(job.message).toMatch(/did not start within its timeout of 24 hours/);
  expect(statuses(events, arn)).toEqual(['Submitted', 'Validating', 'Scheduled', 'Expired']);
  // Get stays consistent: the job ended at its (brought forward) expiry.
  expect(job.endTime!.getTime()).toBe(job.jobExpirationTime!.getTime());
  expect(job.jobExpirationTime!.getTime() - job.submitTime!.getTime()).toBeLessThan(60_000);
  expect(await listKeys(env.s3, OUT_BUCKET, `out/${jobIdOf(arn)}/`)).toEqual([]);
});

test('partialJobsNamed: the job ends PartiallyCompleted with about half its records answered, as on timeout', async () => {
  const { bedrock, emulator } = await env.start();
  emulator.setFaults({ partialJobsNamed: ['half'] });
  const arn = await createJob(bedrock, { inputUri, jobName: uniqueName('half-done') });
  const job = await waitForStatus(bedrock, arn);
  expect(job.status).toBe('PartiallyCompleted');
  expect(job.message).toMatch(/reached its timeout of 24 hours; 100 of 200 records were processed/);
  expect(job).toMatchObject({ totalRecordCount: 200, processedRecordCount: 100, successRecordCount: 100, errorRecordCount: 0 });
  const { lines, manifest } = await outputsOf(arn);
  expect(lines).toHaveLength(100);
  expect(lines.every((l) => l.modelOutput !== undefined)).toBe(true);
  expect(manifest).toMatchObject({ processedRecordCount: 100 });
});

test('forgetJobsNamed: once created, the job is unknown to Get, Stop and List, and never runs', async () => {
  const { bedrock, emulator } = await env.start();
  emulator.setFaults({ forgetJobsNamed: ['amnesia'] });
  const jobName = uniqueName('amnesia');
  const token = 'f0f0f0f0-0000-4000-8000-000000000001';
  const arn = await createJob(bedrock, { inputUri, jobName, clientRequestToken: token });
  expect(arn).toMatch(/model-invocation-job\/[a-z0-9]{12}$/);
  for (const call of [
    bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: arn })),
    bedrock.send(new StopModelInvocationJobCommand({ jobIdentifier: jobIdOf(arn) })),
  ]) {
    const err = await errorOf(call);
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect(err.$metadata.httpStatusCode).toBe(404);
  }
  const list = await bedrock.send(new ListModelInvocationJobsCommand({ nameContains: 'amnesia' }));
  expect(list.invocationJobSummaries ?? []).toEqual([]);
  expect(emulator.stats()).toMatchObject({ jobsCreated: 1, activeJobs: 0, jobs: [] });
  await new Promise((r) => setTimeout(r, 400));
  expect(await listKeys(env.s3, OUT_BUCKET, `out/${jobIdOf(arn)}/`)).toEqual([]);

  // The name and token were lost with it: the same Create, once the fault is gone, makes a new job that runs.
  emulator.setFaults({});
  const again = await createJob(bedrock, { inputUri, jobName, clientRequestToken: token });
  expect(again).not.toBe(arn);
  expect((await waitForStatus(bedrock, again)).status).toBe('Completed');
});

test('delayCreatesMs: Create answers only after the delay, and the job exists only from then on', async () => {
  const { bedrock, emulator } = await env.start();
  emulator.setFaults({ delayCreatesMs: 600 });
  const name = uniqueName('slow-create');
  const created = createJob(bedrock, { inputUri, jobName: name });
  await new Promise((r) => setTimeout(r, 200));
  const listed = await bedrock.send(new ListModelInvocationJobsCommand({ nameContains: name }));
  expect(listed.invocationJobSummaries ?? []).toEqual([]);
  const arn = await created;
  expect(emulator.stats().jobs.map((j) => j.jobArn)).toContain(arn);
});
