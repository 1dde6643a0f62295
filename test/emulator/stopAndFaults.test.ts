import { ConflictException, GetModelInvocationJobCommand, ResourceNotFoundException, StopModelInvocationJobCommand } from '@aws-sdk/client-bedrock';
import type { TransitionEvent } from '../../src/emulator';
import { Env, OUT_BUCKET, TITAN, claudeRecords, createJob, errorOf, jobIdOf, listKeys, putJsonl, readJsonl, recordId, startEnv, uniqueName, waitForStatus } from './helpers';

let env: Env;
let inputUri: string;
beforeAll(async () => {
  env = await startEnv();
  inputUri = await putJsonl(env.s3, 'stop/in.jsonl', claudeRecords(200));
});
afterAll(async () => {
  await env?.stop();
});

const SLOW = { submittedMs: 10, validatingMs: 10, scheduledMs: 10, inProgressMs: 1500 };

describe('StopModelInvocationJob', () => {
  test('an InProgress job goes Stopping → Stopped with the records done so far written', async () => {
    const events: TransitionEvent[] = [];
    const { bedrock, emulator } = await env.start({ timing: SLOW, onTransition: (e) => events.push(e) });
    const arn = await createJob(bedrock, { inputUri });
    await waitForStatus(bedrock, arn, ['InProgress']);
    await new Promise((r) => setTimeout(r, 300));
    await bedrock.send(new StopModelInvocationJobCommand({ jobIdentifier: arn }));
    const stopping = await bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: arn }));
    expect(['Stopping', 'Stopped']).toContain(stopping.status);

    const job = await waitForStatus(bedrock, arn);
    expect(job.status).toBe('Stopped');
    expect(events.map((e) => e.to)).toEqual(['Submitted', 'Validating', 'Scheduled', 'InProgress', 'Stopping', 'Stopped']);
    const processed = job.processedRecordCount!;
    expect(processed).toBeGreaterThan(0);
    expect(processed).toBeLessThan(200);
    const lines = await readJsonl(env.s3, OUT_BUCKET, `out/${jobIdOf(arn)}/in.jsonl.out`);
    expect(lines).toHaveLength(processed);
    expect(new Set(lines.map((l) => l.recordId)).size).toBe(processed);
    const [manifest] = await readJsonl(env.s3, OUT_BUCKET, `out/${jobIdOf(arn)}/manifest.json.out`);
    expect(manifest).toMatchObject({ totalRecordCount: 200, processedRecordCount: processed });
    expect(emulator.stats().stopRequests).toBe(1);

    const err = await errorOf(bedrock.send(new StopModelInvocationJobCommand({ jobIdentifier: arn })));
    expect(err).toBeInstanceOf(ConflictException);
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(err.message).toMatch(/already Stopped/);
  });

  test('a job stopped before it runs ends Stopped with no outputs; Stop on a Completed job is a ConflictException', async () => {
    const { bedrock } = await env.start({ timing: { submittedMs: 10, validatingMs: 10, scheduledMs: 2000 } });
    const arn = await createJob(bedrock, { inputUri });
    await waitForStatus(bedrock, arn, ['Scheduled']);
    await bedrock.send(new StopModelInvocationJobCommand({ jobIdentifier: jobIdOf(arn) }));
    const job = await waitForStatus(bedrock, arn);
    expect(job.status).toBe('Stopped');
    expect(await listKeys(env.s3, OUT_BUCKET, `out/${jobIdOf(arn)}/`)).toEqual([]);

    const fast = await env.start();
    const done = await createJob(fast.bedrock, { inputUri });
    expect((await waitForStatus(fast.bedrock, done)).status).toBe('Completed');
    expect(await errorOf(fast.bedrock.send(new StopModelInvocationJobCommand({ jobIdentifier: done })))).toBeInstanceOf(ConflictException);
    expect(await errorOf(fast.bedrock.send(new StopModelInvocationJobCommand({ jobIdentifier: 'zzzzzzzzzzzz' })))).toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('faults', () => {
  test('recordErrorEvery and recordErrorIds turn records into error lines; the job still Completes', async () => {
    const { bedrock, emulator } = await env.start();
    emulator.setFaults({ recordErrorEvery: 10, recordErrorIds: [recordId(3), recordId(20)] });
    const arn = await createJob(bedrock, { inputUri });
    const job = await waitForStatus(bedrock, arn);
    expect(job.status).toBe('Completed');
    // Positions 10, 20, ..., 200 (20 records) plus recordId 3 (position 4); recordId 20 is position 21.
    const expected = new Set([...Array.from({ length: 20 }, (_, k) => recordId(10 * (k + 1) - 1)), recordId(3), recordId(20)]);
    expect([job.successRecordCount, job.errorRecordCount]).toEqual([200 - expected.size, expected.size]);
    const lines = await readJsonl(env.s3, OUT_BUCKET, `out/${jobIdOf(arn)}/in.jsonl.out`);
    const errored = lines.filter((l) => l.error);
    expect(new Set(errored.map((l) => l.recordId))).toEqual(expected);
    for (const l of errored) {
      expect(l.error.errorCode).toBe(400);
      expect(typeof l.error.errorMessage).toBe('string');
      expect(l.modelOutput).toBeUndefined();
    }
    const [manifest] = await readJsonl(env.s3, OUT_BUCKET, `out/${jobIdOf(arn)}/manifest.json.out`);
    expect(manifest.errorRecordCount).toBe(expected.size);
  });

  test('failJobsNamed and failNextJobs end jobs Failed after InProgress; other jobs are untouched', async () => {
    const events: TransitionEvent[] = [];
    const { bedrock, emulator } = await env.start({ onTransition: (e) => events.push(e) });
    emulator.setFaults({ failJobsNamed: ['doomed'], failNextJobs: 1 });
    const next = await createJob(bedrock, { inputUri, jobName: uniqueName('first') });
    const named = await createJob(bedrock, { inputUri, jobName: uniqueName('is-doomed') });
    const fine = await createJob(bedrock, { inputUri, jobName: uniqueName('fine') });
    for (const arn of [next, named]) {
      const job = await waitForStatus(bedrock, arn);
      expect(job.status).toBe('Failed');
      expect(job.message).toMatch(/internal error/);
      expect(events.filter((e) => e.jobArn === arn).map((e) => e.to)).toEqual(['Submitted', 'Validating', 'Scheduled', 'InProgress', 'Failed']);
    }
    expect((await waitForStatus(bedrock, fine)).status).toBe('Completed');
  });

  test('setFaults replaces the faults in force', async () => {
    const { bedrock, emulator } = await env.start();
    emulator.setFaults({ recordErrorEvery: 1 });
    emulator.setFaults({});
    const arn = await createJob(bedrock, { inputUri });
    expect((await waitForStatus(bedrock, arn)).errorRecordCount).toBe(0);
  });
});

describe('stats', () => {
  test('peakActiveJobs is the exact maximum of concurrently active jobs; resetStats rebases counters', async () => {
    const { bedrock, emulator } = await env.start({ timing: { submittedMs: 10, validatingMs: 10, scheduledMs: 10, inProgressMs: 400 } });
    const first = await Promise.all([1, 2, 3].map(() => createJob(bedrock, { inputUri })));
    expect(emulator.stats()).toMatchObject({ activeJobs: 3, peakActiveJobs: 3 });
    await Promise.all(first.map((arn) => waitForStatus(bedrock, arn)));
    expect(emulator.stats()).toMatchObject({ activeJobs: 0, peakActiveJobs: 3 });
    const second = await Promise.all([1, 2].map(() => createJob(bedrock, { inputUri, modelId: TITAN })));
    expect(emulator.stats().peakActiveJobs).toBe(3);
    emulator.resetStats();
    expect(emulator.stats()).toMatchObject({ createRequests: 0, jobsCreated: 0, stopRequests: 0, activeJobs: 2, peakActiveJobs: 2 });
    expect(emulator.stats().jobs).toHaveLength(5);
    await Promise.all(second.map((arn) => waitForStatus(bedrock, arn)));
    expect(emulator.stats()).toMatchObject({ activeJobs: 0, peakActiveJobs: 2 });
    // The timeline starts at the reset's count and records each end with the ended count so far.
    expect(emulator.stats().activeTimeline.map((p) => [p.active, p.ended])).toEqual([
      [2, 0],
      [1, 1],
      [0, 2],
    ]);
  });

  test('jobMsNamed gives a named job its own InProgress time', async () => {
    const { bedrock, emulator } = await env.start({ timing: { submittedMs: 10, validatingMs: 10, scheduledMs: 10, inProgressMs: 200 } });
    emulator.setFaults({ jobMsNamed: ['slow-one=1500'] });
    const started = Date.now();
    const [fast, slow] = await Promise.all([createJob(bedrock, { inputUri, jobName: 'fast-one' }), createJob(bedrock, { inputUri, jobName: 'slow-one' })]);
    await waitForStatus(bedrock, fast);
    expect(Date.now() - started).toBeLessThan(1200);
    await waitForStatus(bedrock, slow);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
  });
});
