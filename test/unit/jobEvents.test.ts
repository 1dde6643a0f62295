import { checkRunInput, JOB_EVENTS_POLL_SECONDS } from '../../src/core/runConfig';
import { FaultState, parseFaults } from '../../src/emulator/faults';
import { batchJobStateChangeEvent, consoleTime, parseBatchJobStateChange } from '../../src/events/bedrockEvent';
import { runningRunsQuery, runningShardsQuery, shardIndexOfWorkflowId } from '../../src/events/shardSignals';
import { bedrockJobName, gatherJobName, parseBedrockJobName } from '../../src/shared/jobNames';

/** AWS's sample "Batch Inference Job State Change" event (Bedrock user guide, "How EventBridge for Amazon Bedrock works"). */
const AWS_SAMPLE = {
  version: '0',
  id: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
  'detail-type': 'Batch Inference Job State Change',
  source: 'aws.bedrock',
  account: '123456789012',
  time: '2024-08-28T22:58:48Z',
  region: 'us-east-1',
  resources: ['arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdefghwxyz'],
  detail: {
    version: '0.0',
    accountId: '123456789012',
    batchJobName: 'dummy-batch-job',
    batchJobArn: 'arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdefghwxyz',
    batchModelId: 'anthropic.claude-3-haiku-20240307-v1:0',
    status: 'Completed',
    failureMessage: '',
    creationTime: 'Aug 28, 2024, 10:47:53 PM',
  },
};

describe('Bedrock batch job state-change events', () => {
  it("parses AWS's sample event, and tolerates fields it does not know", () => {
    const body = JSON.stringify({ ...AWS_SAMPLE, detail: { ...AWS_SAMPLE.detail, somethingNew: 1 } });
    expect(parseBatchJobStateChange(body)).toEqual({ jobArn: AWS_SAMPLE.detail.batchJobArn, jobName: 'dummy-batch-job', status: 'Completed' });
  });

  it('builds the documented shape, which parses back to the same job and status', () => {
    const event = batchJobStateChangeEvent({
      id: AWS_SAMPLE.id,
      region: 'us-east-1',
      accountId: '123456789012',
      jobArn: AWS_SAMPLE.detail.batchJobArn,
      jobName: 'dummy-batch-job',
      modelId: AWS_SAMPLE.detail.batchModelId,
      status: 'Completed',
      submitTime: new Date('2024-08-28T22:47:53Z'),
      at: new Date('2024-08-28T22:58:48.123Z'),
    });
    expect(event).toEqual(AWS_SAMPLE);
    expect(parseBatchJobStateChange(JSON.stringify(event)).status).toBe('Completed');
  });

  it('carries the failure message only for a Failed job', () => {
    const base = { id: 'x', region: 'us-east-1', accountId: '1', jobArn: 'a', jobName: 'n', modelId: 'm', message: 'bad input', submitTime: new Date(0), at: new Date(0) };
    expect(batchJobStateChangeEvent({ ...base, status: 'Failed' }).detail.failureMessage).toBe('bad input');
    expect(batchJobStateChangeEvent({ ...base, status: 'Stopped' }).detail.failureMessage).toBe('');
  });

  it('writes creation times as the sample does, midnight and noon included', () => {
    expect(consoleTime(new Date('2024-01-05T00:07:09Z'))).toBe('Jan 5, 2024, 12:07:09 AM');
    expect(consoleTime(new Date('2024-12-31T12:00:00Z'))).toBe('Dec 31, 2024, 12:00:00 PM');
  });

  it.each([
    ['text', 'not json', /not JSON/],
    ['an array', '[1]', /not a JSON object/],
    ['an S3 event', JSON.stringify({ ...AWS_SAMPLE, source: 'aws.s3' }), /not a "Batch Inference Job State Change" event/],
    ['a customization job event', JSON.stringify({ ...AWS_SAMPLE, 'detail-type': 'Model Customization Job State Change' }), /not a "Batch Inference Job State Change"/],
    ['no detail', JSON.stringify({ ...AWS_SAMPLE, detail: undefined }), /no detail/],
    ['an empty job ARN', JSON.stringify({ ...AWS_SAMPLE, detail: { ...AWS_SAMPLE.detail, batchJobArn: '' } }), /detail.batchJobArn is missing/],
    ['a numeric status', JSON.stringify({ ...AWS_SAMPLE, detail: { ...AWS_SAMPLE.detail, status: 3 } }), /detail.status is missing/],
  ])('refuses %s, saying why', (_label, body, why) => {
    expect(() => parseBatchJobStateChange(body)).toThrow(why);
  });
});

describe('from a job to its shard workflows', () => {
  it("reads run key, shard and attempt back from this app's job names, and nothing from others", () => {
    const name = bedrockJobName('my-run', '0123456789abcdef', 42, 2);
    expect(parseBedrockJobName(name)).toEqual({ runKey: '0123456789abcdef', shardIndex: 42, attempt: 2 });
    expect(parseBedrockJobName(bedrockJobName('a-very-long-run-name-that-gets-cut', 'fedcba9876543210', 123456, 10))).toEqual({
      runKey: 'fedcba9876543210',
      shardIndex: 123456,
      attempt: 10,
    });
    expect(parseBedrockJobName('dummy-batch-job')).toBeUndefined();
  });

  it("reads run key and number back from a run's pooled (gather) job names, cut run names included", () => {
    expect(parseBedrockJobName(gatherJobName('my-run', '0123456789abcdef', 1))).toEqual({ runKey: '0123456789abcdef', gather: 1 });
    const long = gatherJobName('a-run-name-long-enough-that-bedrock-63-limit-cuts-it', 'fedcba9876543210', 12);
    expect(long).toHaveLength(63);
    expect(parseBedrockJobName(long)).toEqual({ runKey: 'fedcba9876543210', gather: 12 });
    // Not this app's: a run key of the wrong length or case, no number, a number from 0, text after it.
    for (const other of ['x-0123456789abcde-gather-1', 'x-0123456789ABCDEF-gather-1', 'x-0123456789abcdef-gather-', 'x-0123456789abcdef-gather-0', 'x-0123456789abcdef-gather-1-a1']) {
      expect(parseBedrockJobName(other)).toBeUndefined();
    }
  });

  it('finds the shard index in shard workflow ids, reset ones included, and in no other id', () => {
    expect(shardIndexOfWorkflowId('my-run/shard-7')).toBe(7);
    expect(shardIndexOfWorkflowId('my-run/shard-7-run-3f2a6c1e-0000-4000-8000-000000000000')).toBe(7);
    expect(shardIndexOfWorkflowId('my-run')).toBeUndefined();
    expect(shardIndexOfWorkflowId('my-run/shard-7/x')).toBeUndefined();
  });

  it('queries running shards by run key, and refuses anything that is not one', () => {
    expect(runningShardsQuery('0123456789abcdef')).toBe("BatchRole = 'shard' AND BatchRunKey = '0123456789abcdef' AND ExecutionStatus = 'Running'");
    expect(() => runningShardsQuery("x' OR 1=1")).toThrow(/not a run key/);
  });

  it('queries running runs (not shards) by run key for a pooled job, and refuses anything that is not one', () => {
    expect(runningRunsQuery('0123456789abcdef')).toBe("BatchRole = 'run' AND BatchRunKey = '0123456789abcdef' AND ExecutionStatus = 'Running'");
    expect(() => runningRunsQuery("x' OR 1=1")).toThrow(/not a run key/);
  });
});

describe('run option and emulator fault', () => {
  const defaults = { maxRecordsPerJob: 50_000, maxConcurrentJobs: 20, jobTimeoutHours: 24, pollIntervalSeconds: 60, maxJobAttempts: 2, shardsPerPage: 250 };
  const input = {
    input: { s3Uri: 's3://data/topics.csv' },
    task: 'text',
    promptId: 'joke_about_topic',
    modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
    outputUri: 's3://results/runs',
    roleArn: 'arn:aws:iam::123456789012:role/BedrockBatch',
  };

  it('polls as before without events, and only as a safety net (every 15 min unless set) with them', () => {
    expect(checkRunInput(input, defaults)).toMatchObject({ jobEvents: false, pollIntervalSeconds: 60 });
    expect(checkRunInput(input, { ...defaults, jobEvents: true })).toMatchObject({ jobEvents: true, pollIntervalSeconds: JOB_EVENTS_POLL_SECONDS });
    expect(checkRunInput({ ...input, jobEvents: true, pollIntervalSeconds: 120 }, defaults)).toMatchObject({ jobEvents: true, pollIntervalSeconds: 120 });
    expect(checkRunInput({ ...input, jobEvents: false }, { ...defaults, jobEvents: true })).toMatchObject({ jobEvents: false, pollIntervalSeconds: 60 });
    expect(() => checkRunInput({ ...input, jobEvents: 'yes' }, defaults)).toThrow(/jobEvents must be true or false/);
  });

  it('drops the next N events, or all of them until faults change', () => {
    const faults = new FaultState();
    faults.set(parseFaults({ dropNextEvents: 2 }));
    expect([faults.takeDroppedEvent(), faults.takeDroppedEvent(), faults.takeDroppedEvent()]).toEqual([true, true, false]);
    faults.set(parseFaults({ dropAllEvents: true }));
    expect([faults.takeDroppedEvent(), faults.takeDroppedEvent()]).toEqual([true, true]);
    faults.set({});
    expect(faults.takeDroppedEvent()).toBe(false);
    expect(() => parseFaults({ dropAllEvents: 1 })).toThrow(/dropAllEvents must be true or false/);
  });
});
