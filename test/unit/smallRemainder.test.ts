import { addShardOutcome } from '../../src/core/outcome';
import { DEFAULT_ON_DEMAND_RPS, DEFAULT_SMALL_REMAINDER, checkRunInput } from '../../src/core/runConfig';
import { ShardOutcome, emptyTotals } from '../../src/shared/types';

const defaults = { maxRecordsPerJob: 50_000, maxConcurrentJobs: 20, jobTimeoutHours: 24, pollIntervalSeconds: 60, maxJobAttempts: 2, shardsPerPage: 250 };
const valid = {
  input: { s3Uri: 's3://data/topics.csv' },
  task: 'text',
  promptId: 'joke_about_topic',
  modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
  outputUri: 's3://results/runs/',
  roleArn: 'arn:aws:iam::123456789012:role/BedrockBatch',
};

describe('smallRemainder and onDemandRequestsPerSecond', () => {
  it('default to error rows at one call a second, unless the defaults file says otherwise', () => {
    expect(DEFAULT_SMALL_REMAINDER).toBe('error-rows');
    expect(checkRunInput(valid, defaults)).toMatchObject({ smallRemainder: 'error-rows', onDemandRequestsPerSecond: DEFAULT_ON_DEMAND_RPS });
    expect(checkRunInput(valid, { ...defaults, smallRemainder: 'on-demand', onDemandRequestsPerSecond: 5 })).toMatchObject({ smallRemainder: 'on-demand', onDemandRequestsPerSecond: 5 });
    expect(checkRunInput({ ...valid, smallRemainder: 'on-demand', onDemandRequestsPerSecond: 0.5 }, defaults)).toMatchObject({ smallRemainder: 'on-demand', onDemandRequestsPerSecond: 0.5 });
  });

  it('refuse other values, naming the field and the bound', () => {
    expect(() => checkRunInput({ ...valid, smallRemainder: 'retry' }, defaults)).toThrow(/smallRemainder must be "on-demand" or "error-rows", got "retry"/);
    expect(() => checkRunInput({ ...valid, onDemandRequestsPerSecond: 100 }, defaults)).toThrow(/onDemandRequestsPerSecond must be a number from 0.1 to 20, got 100/);
    expect(() => checkRunInput({ ...valid, onDemandRequestsPerSecond: 0 }, defaults)).toThrow(/onDemandRequestsPerSecond must be a number/);
    expect(() => checkRunInput({ ...valid, onDemandRequestsPerSecond: '3' }, defaults)).toThrow(/onDemandRequestsPerSecond must be a number/);
  });
});

test('run totals add up the shards\' on-demand calls apart from their batch tokens', () => {
  const shard = (i: number, onDemand?: ShardOutcome['onDemand']): ShardOutcome => ({
    shardIndex: i, status: 'succeeded', attempts: 1, rows: 100, succeeded: 100, failed: 0, inputTokens: 1000, outputTokens: 500, partUri: '', onDemand,
  });
  const totals = emptyTotals();
  addShardOutcome(totals, shard(0));
  expect(totals.onDemand).toBeUndefined();
  addShardOutcome(totals, shard(1, { answered: 30, rejected: 1, inputTokens: 300, outputTokens: 90 }));
  addShardOutcome(totals, shard(2, { answered: 5, rejected: 0, inputTokens: 50, outputTokens: 10 }));
  expect(totals.onDemand).toEqual({ answered: 35, rejected: 1, inputTokens: 350, outputTokens: 100 });
  expect(totals).toMatchObject({ inputTokens: 3000, outputTokens: 1500 });
});
