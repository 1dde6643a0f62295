import { RunInputError, checkRunInput, clientRequestTokenFor, runKeyOf } from '../../src/core/runConfig';
import { bedrockJobName } from '../../src/shared/jobNames';

const defaults = { maxRecordsPerJob: 50_000, maxConcurrentJobs: 20, jobTimeoutHours: 24, pollIntervalSeconds: 60, maxJobAttempts: 2, shardsPerPage: 250 };
const valid = {
  input: { s3Uri: 's3://data/topics.csv' },
  task: 'text',
  promptId: 'joke_about_topic',
  modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
  outputUri: 's3://results/runs/',
  roleArn: 'arn:aws:iam::123456789012:role/BedrockBatch',
};

describe('run input', () => {
  it('fills defaults from the config', () => {
    const run = checkRunInput(valid, defaults);
    expect(run).toMatchObject({ maxRecordsPerJob: 50_000, maxConcurrentJobs: 20, jobTimeoutHours: 24, outputUri: 's3://results/runs', runName: 'batch' });
  });

  it('reports every problem at once, naming the field', () => {
    let error: RunInputError | undefined;
    try {
      checkRunInput({ ...valid, maxRecordsPerJob: 50, jobTimeoutHours: 200, task: 'chat', colour: 'blue' }, defaults);
    } catch (err) {
      error = err as RunInputError;
    }
    expect(error).toBeInstanceOf(RunInputError);
    expect(error!.problems).toEqual(
      expect.arrayContaining([
        'unknown field "colour"',
        expect.stringMatching(/^task must be "text" or "embedding"/),
        expect.stringMatching(/^maxRecordsPerJob must be an integer from 100 to 50000, got 50/),
        expect.stringMatching(/^jobTimeoutHours must be an integer from 24 to 168, got 200/),
      ]),
    );
  });

  it('takes an optional positive budget and a known invocation type', () => {
    expect(checkRunInput({ ...valid, budgetUsd: 12.5, invocationType: 'Converse' }, defaults)).toMatchObject({ budgetUsd: 12.5, invocationType: 'Converse' });
    expect(checkRunInput(valid, defaults)).toMatchObject({ budgetUsd: undefined, invocationType: 'InvokeModel' });
    expect(() => checkRunInput({ ...valid, budgetUsd: 0 }, defaults)).toThrow(/budgetUsd must be a positive number/);
    expect(() => checkRunInput({ ...valid, invocationType: 'Chat' }, defaults)).toThrow(/invocationType must be "InvokeModel" or "Converse"/);
  });

  it('tells a worker-side run that local files must go through our client', () => {
    expect(() => checkRunInput({ ...valid, input: { file: './data.csv' } }, defaults)).toThrow(/input.file is uploaded by our CLI and startBatchRun\(\)/);
    expect(() => checkRunInput({ ...valid, maxRecords: 0 }, defaults)).toThrow(/maxRecords must be an integer from 1/);
  });

  it('requires a prompt for text and refuses one for embeddings', () => {
    expect(() => checkRunInput({ ...valid, promptId: undefined }, defaults)).toThrow(/promptId is required/);
    expect(() => checkRunInput({ ...valid, task: 'embedding' }, defaults)).toThrow(/promptId is not used/);
    expect(() => checkRunInput({ ...valid, roleArn: 'role' }, defaults)).toThrow(/roleArn/);
    expect(() => checkRunInput([], defaults)).toThrow(/JSON object/);
  });
});

describe('business identity', () => {
  const identity = {
    inputUri: 's3://data/topics.csv', inputETag: '"abc"', task: 'text' as const, template: 'x {topic}',
    modelId: 'm', invocationType: 'InvokeModel' as const, modelParams: { maxTokens: 10, temperature: 0.5 }, maxRecordsPerJob: 500, partBytes: 1 << 28, outputUri: 's3://o',
  };

  it('ignores key order and changes with anything that changes the jobs', () => {
    const key = runKeyOf(identity);
    expect(key).toMatch(/^[0-9a-f]{16}$/);
    expect(runKeyOf({ ...identity, modelParams: { temperature: 0.5, maxTokens: 10 } })).toBe(key);
    expect(runKeyOf({ ...identity, inputETag: '"def"' })).not.toBe(key);
    expect(runKeyOf({ ...identity, modelId: 'other' })).not.toBe(key);
    expect(runKeyOf({ ...identity, invocationType: 'Converse' })).not.toBe(key);
    expect(runKeyOf({ ...identity, partBytes: 1 << 20 })).not.toBe(key);
  });

  it('gives valid Bedrock job names and tokens per shard and attempt', () => {
    const name = bedrockJobName('a-very-long-run-name-that-goes-on-and-on-and-on', '0123456789abcdef', 42, 1);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9+\-.]){0,63}$/);
    expect(name.endsWith('-0123456789abcdef-s00042-a1')).toBe(true);
    const token = clientRequestTokenFor('0123456789abcdef', 42, 1);
    expect(token).toMatch(/^[a-zA-Z0-9]{1,256}(-*[a-zA-Z0-9]){0,256}$/);
    expect(clientRequestTokenFor('0123456789abcdef', 42, 2)).not.toBe(token);
    expect(clientRequestTokenFor('0123456789abcdef', 42, 1)).toBe(token);
  });
});
