import { ShardRetry, getRunStatus, startBatchRun } from '../../src/client/api';
import { waitFor } from '../../src/localstack';
import { RunInput } from '../../src/shared/types';
import { sampleRows, uploadCsv } from '../support/data';
import { LocalStack, startLocalStack } from '../support/localStack';
import { readRunOutput } from '../support/output';
import { RunningWorker, startWorker } from '../support/worker';

const base = {
  task: 'text',
  promptId: 'joke_about_topic',
  modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
  roleArn: 'arn:aws:iam::123456789012:role/BedrockBatchRole',
  maxRecordsPerJob: 500,
  pollIntervalSeconds: 1,
} as const;

function run(name: string): RunInput {
  return { ...base, input: { s3Uri: `s3://datasets/${name}.csv` }, outputUri: `s3://results/${name}`, runName: name };
}

describe('Bedrock faults on the local stack', () => {
  let stack: LocalStack;
  let worker: RunningWorker;

  beforeAll(async () => {
    stack = await startLocalStack();
    worker = await startWorker(stack);
    for (const [name, n] of [['retry', 150], ['record-errors', 300], ['always-fails', 120]] as const) {
      await uploadCsv(stack.s3, `s3://datasets/${name}.csv`, sampleRows(n));
    }
  }, 180_000);

  afterAll(async () => {
    await worker?.stop();
    await stack?.stop();
  });

  beforeEach(() => {
    stack.emulator.resetStats();
    stack.emulator.setFaults({});
  });

  test('a job that fails as a whole is resubmitted under a new name and the shard completes', async () => {
    stack.emulator.setFaults({ failNextJobs: 1 });
    const summary = await (await startBatchRun(worker.client, run('retry'))).result();
    const jobs = stack.emulator.stats().jobs;
    expect(jobs.map((j) => [j.jobName.slice(-3), j.status])).toEqual([['-a1', 'Failed'], ['-a2', 'Completed']]);
    expect(summary).toMatchObject({ rows: 150, succeeded: 150, failed: 0, failedShards: [], outcome: 'complete' });
  });

  test('record errors keep their rows, with the error code and message filled in', async () => {
    stack.emulator.setFaults({ recordErrorEvery: 10 });
    const summary = await (await startBatchRun(worker.client, run('record-errors'))).result();
    // 30 records are fewer than a job's minimum of 100, so they are not re-driven.
    expect(stack.emulator.stats().jobsCreated).toBe(1);
    expect(summary).toMatchObject({ rows: 300, succeeded: 270, failed: 30, recordErrors: 30, unanswered: 0, outcome: 'complete_with_errors' });
    expect(summary.shardsByStatus).toEqual({ succeeded: 0, partial: 1, failed: 0, not_submitted: 0 });
    expect(summary.partialShards![0].message).toMatch(/30 record\(s\) left without an answer are fewer than Bedrock's minimum of 100 per job/);
    const out = await readRunOutput(stack.s3, summary.outputUris);
    expect(out).toHaveLength(300);
    const failed = out.filter((r) => r.error_code !== null);
    expect(failed).toHaveLength(30);
    for (const r of failed) {
      expect(r.error_code).toBe('400');
      expect(typeof r.error_message).toBe('string');
      expect(r.response).toBeNull();
    }
  });

  test('a shard whose every attempt fails still writes all its rows, marked JOB_FAILED', async () => {
    stack.emulator.setFaults({ failJobsNamed: ['always-fails'] });
    const summary = await (await startBatchRun(worker.client, { ...run('always-fails'), maxJobAttempts: 2 })).result();
    expect(stack.emulator.stats().jobsCreated).toBe(2);
    expect(summary).toMatchObject({ rows: 120, succeeded: 0, failed: 120, unanswered: 120, outcome: 'incomplete' });
    expect(summary.failedShards).toEqual([{ shardIndex: 0, message: expect.stringMatching(/^Bedrock job [a-z0-9]{12} Failed: /) }]);
    const out = await readRunOutput(stack.s3, summary.outputUris);
    expect(out).toHaveLength(120);
    expect(new Set(out.map((r) => r.error_code))).toEqual(new Set(['JOB_FAILED']));
  });
});

describe('a job Bedrock refuses to create', () => {
  let stack: LocalStack;
  let worker: RunningWorker;

  beforeAll(async () => {
    stack = await startLocalStack();
    worker = await startWorker(stack);
    await uploadCsv(stack.s3, 's3://datasets/rejected.csv', sampleRows(100));
  }, 180_000);

  afterAll(async () => {
    await worker?.stop();
    await stack?.stop();
  });

  test("keeps the shard's rows with the rejection as their error, and no job exists", async () => {
    stack.emulator.setFaults({ rejectCreatesNamed: ['rejected'] });
    const summary = await (await startBatchRun(worker.client, run('rejected'))).result();
    expect(stack.emulator.stats().jobsCreated).toBe(0);
    expect(summary).toMatchObject({ rows: 100, succeeded: 0, failed: 100, outcome: 'incomplete' });
    expect(summary.failedShards[0].message).toMatch(/not authorized/);
    const out = await readRunOutput(stack.s3, summary.outputUris);
    expect(out).toHaveLength(100);
    expect(new Set(out.map((r) => r.error_code))).toEqual(new Set(['SUBMIT_REJECTED']));
  });
});

describe('a job that reaches its timeout while in progress', () => {
  let stack: LocalStack;
  let worker: RunningWorker;

  beforeAll(async () => {
    // One emulated hour is 100 ms, so the minimum 24 h timeout falls half way through a 5 s job.
    stack = await startLocalStack({ inProgressMs: 5000, hourMs: 100 });
    worker = await startWorker(stack);
    await uploadCsv(stack.s3, 's3://datasets/partial.csv', sampleRows(200));
  }, 180_000);

  afterAll(async () => {
    await worker?.stop();
    await stack?.stop();
  });

  test('is harvested: the records it finished are kept, the rest re-driven once, and what is left says why', async () => {
    const summary = await (await startBatchRun(worker.client, run('partial'))).result();
    const jobs = stack.emulator.stats().jobs;
    expect(jobs.map((j) => j.status)).toEqual(jobs.map(() => 'PartiallyCompleted'));
    expect(summary.rows).toBe(200);
    expect(summary.succeeded).toBeGreaterThan(0);
    expect(summary.succeeded).toBeLessThan(200);
    expect(summary.outcome).toBe('incomplete');
    const out = await readRunOutput(stack.s3, summary.outputUris);
    expect(out).toHaveLength(200);
    expect(out.filter((r) => r.response !== null)).toHaveLength(summary.succeeded);
    expect(new Set(out.filter((r) => r.response === null).map((r) => r.error_code))).toEqual(new Set(['JOB_PARTIALLY_COMPLETED']));
    // A second attempt, when there is one, is sent only the records the first left unanswered.
    if (jobs.length === 2) {
      const answeredFirst = out.filter((r) => r.response !== null && r.job_id === jobs[0].jobArn.split('/').pop()).length;
      expect(jobs[1].recordCount).toBe(200 - answeredFirst);
    } else expect(jobs).toHaveLength(1);
  });
});

describe('a shard that never gets a job slot', () => {
  let stack: LocalStack;
  let worker: RunningWorker;

  beforeAll(async () => {
    // One job slot for the model, held by the run's first job for longer than the second may wait.
    stack = await startLocalStack({ inProgressMs: 70_000, maxActiveJobsPerModel: 1 });
    worker = await startWorker(stack);
    await uploadCsv(stack.s3, 's3://datasets/no-slot.csv', sampleRows(200));
  }, 180_000);

  afterAll(async () => {
    await worker?.stop();
    await stack?.stop();
  });

  // Before: submitJob retried quota-full answers without end and the run stayed RUNNING.
  test('waits up to quotaWaitMinutes, then writes its rows with the reason', async () => {
    const handle = await startBatchRun(worker.client, { ...run('no-slot'), maxRecordsPerJob: 100, maxConcurrentJobs: 2, quotaWaitMinutes: 1 }, { workflowId: 'no-slot' });
    // While it waits, status says which shard waits and why.
    let retrying: ShardRetry[] = [];
    await waitFor('a shard seen waiting for a job slot', async () => {
      retrying = (await getRunStatus(worker.client, 'no-slot')).retrying ?? [];
      return retrying.length > 0;
    }, 50_000, 500);
    // Both shards submit at once; whichever Bedrock took first holds the one slot.
    expect(retrying).toEqual([{ workflowId: expect.stringMatching(/^no-slot\/shard-[01]$/), activity: 'submitJob', attempt: expect.any(Number), lastFailure: expect.stringMatching(/You have reached the quota/) }]);
    const waiting = Number(retrying[0].workflowId.slice(-1));
    const summary = await handle.result();
    expect(stack.emulator.stats().jobsCreated).toBe(1);
    expect(summary).toMatchObject({ rows: 200, succeeded: 100, failed: 100, unanswered: 100, outcome: 'incomplete' });
    expect(summary.failedShards).toEqual([{ shardIndex: waiting, message: expect.stringMatching(/^gave up waiting \(submitJob, past its time bound\): You have reached the quota/) }]);
    const out = await readRunOutput(stack.s3, summary.outputUris);
    expect(out.filter((r) => r.error_code === 'SUBMIT_QUOTA_WAIT')).toHaveLength(100);
  }, 180_000);
});
