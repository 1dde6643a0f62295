import {
  BedrockClient,
  ListModelInvocationJobsCommand,
  ListModelInvocationJobsCommandInput,
  ModelInvocationJobSummary,
  ValidationException,
  paginateListModelInvocationJobs,
} from '@aws-sdk/client-bedrock';
import { Env, claudeRecords, createJob, errorOf, putJsonl, startEnv, waitForStatus } from './helpers';

let env: Env;
let bedrock: BedrockClient;
const arns: string[] = [];
let failedArn: string;
let midpoint: Date;

beforeAll(async () => {
  env = await startEnv();
  ({ bedrock } = await env.start({ defaultListPageSize: 3 }));
  const good = await putJsonl(env.s3, 'list/in.jsonl', claudeRecords(100));
  const few = await putJsonl(env.s3, 'list/few.jsonl', claudeRecords(5));
  for (let i = 0; i < 7; i++) {
    arns.push(await createJob(bedrock, { inputUri: good, jobName: `listing-${i % 2 ? 'Odd' : 'even'}-${i}` }));
    if (i === 3) {
      await new Promise((r) => setTimeout(r, 15));
      midpoint = new Date();
      await new Promise((r) => setTimeout(r, 15));
    }
  }
  failedArn = await createJob(bedrock, { inputUri: few, jobName: 'listing-few' });
  await Promise.all([...arns, failedArn].map((a) => waitForStatus(bedrock, a)));
});
afterAll(async () => {
  await env?.stop();
});

async function all(input: ListModelInvocationJobsCommandInput = {}): Promise<{ jobs: ModelInvocationJobSummary[]; pages: number }> {
  const jobs: ModelInvocationJobSummary[] = [];
  let pages = 0;
  for await (const page of paginateListModelInvocationJobs({ client: bedrock }, input)) {
    pages++;
    jobs.push(...(page.invocationJobSummaries ?? []));
  }
  return { jobs, pages };
}

test('the paginator walks small default pages, newest first, each job once', async () => {
  const { jobs, pages } = await all();
  expect(pages).toBe(3); // 8 jobs in pages of 3
  expect(jobs.map((j) => j.jobArn)).toEqual([...arns, failedArn].reverse());
  const failed = jobs.find((j) => j.jobArn === failedArn)!;
  expect(failed).toMatchObject({ jobName: 'listing-few', status: 'Failed' });
  expect(failed).not.toHaveProperty('totalRecordCount'); // never counted: validation failed
  expect(failed.message).toMatch(/fewer than the minimum/);
  const done = jobs.find((j) => j.jobArn === arns[0])!;
  expect(done).toMatchObject({ status: 'Completed', totalRecordCount: 100, processedRecordCount: 100, modelInvocationType: 'InvokeModel' });
  expect(done.submitTime).toBeInstanceOf(Date);
  expect(done.endTime).toBeInstanceOf(Date);
});

test('maxResults, sortOrder and explicit nextToken', async () => {
  const page1 = await bedrock.send(new ListModelInvocationJobsCommand({ maxResults: 5, sortOrder: 'Ascending', sortBy: 'CreationTime' }));
  expect(page1.invocationJobSummaries!.map((j) => j.jobArn)).toEqual(arns.slice(0, 5));
  expect(page1.nextToken).toBeDefined();
  const page2 = await bedrock.send(new ListModelInvocationJobsCommand({ maxResults: 5, sortOrder: 'Ascending', nextToken: page1.nextToken }));
  expect(page2.invocationJobSummaries!.map((j) => j.jobArn)).toEqual([...arns.slice(5), failedArn]);
  expect(page2.nextToken).toBeUndefined();
  const { jobs, pages } = await all({ maxResults: 1000 });
  expect([jobs.length, pages]).toEqual([8, 1]);
});

test('statusEquals, nameContains (case-sensitive) and submit-time filters', async () => {
  expect((await all({ statusEquals: 'Failed' })).jobs.map((j) => j.jobArn)).toEqual([failedArn]);
  expect((await all({ statusEquals: 'InProgress' })).jobs).toEqual([]);
  const odd = await all({ nameContains: 'Odd' });
  expect(odd.jobs.map((j) => j.jobName)).toEqual(['listing-Odd-5', 'listing-Odd-3', 'listing-Odd-1']);
  expect((await all({ nameContains: 'odd' })).jobs).toEqual([]);
  const after = await all({ submitTimeAfter: midpoint });
  expect(after.jobs.map((j) => j.jobArn)).toEqual([...arns.slice(4), failedArn].reverse());
  const before = await all({ submitTimeBefore: midpoint, sortOrder: 'Ascending' });
  expect(before.jobs.map((j) => j.jobArn)).toEqual(arns.slice(0, 4));
  const both = await all({ submitTimeAfter: midpoint, nameContains: 'even', statusEquals: 'Completed' });
  expect(both.jobs.map((j) => j.jobName)).toEqual(['listing-even-6', 'listing-even-4']);
});

test('bad parameters are ValidationExceptions', async () => {
  for (const input of [{ maxResults: 0 }, { maxResults: 1001 }, { statusEquals: 'Done' as never }, { sortOrder: 'Sideways' as never }, { nextToken: 'garbage' }]) {
    const err = await errorOf(bedrock.send(new ListModelInvocationJobsCommand(input)));
    expect(err).toBeInstanceOf(ValidationException);
  }
});
