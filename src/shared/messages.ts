import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BatchRunProgress, RunSettings, ShardDone, ShardSeat, ShardStateReport } from './types';

/** Defined once, used by the workflow and by every client. */
export const progressQuery = defineQuery<BatchRunProgress>('progress');

/** A shard tells its run it is stuck (a slow submit: quota full, access denied), or no longer (see workflows/shardStates). */
export const shardStateSignal = defineSignal<[ShardStateReport]>('shardState');

/** A shard tells its run's workflow id (the current run, after any continue-as-new) how it ended (see workflows/shardWindow). */
export const shardDoneSignal = defineSignal<[ShardDone]>('shardDone');

/** A shard of a rolling window tells its run it gave its job seat back (job ended) or wants one (a re-drive); see workflows/jobSeats. */
export const shardSeatSignal = defineSignal<[ShardSeat]>('shardSeat');
/** The run grants a waiting shard a job seat; `ask` is the request it answers. */
export const jobSeatGrantedSignal = defineSignal<[{ ask: number }]>('jobSeatGranted');

/** A Bedrock job's status as its EventBridge event reported it: references only. */
export interface JobStateChanged {
  jobArn: string;
  status: string;
}

/** Sent to a shard's workflow by the job-events consumer when the shard's job changes status. */
export const jobStateChangedSignal = defineSignal<[JobStateChanged]>('jobStateChanged');

/*
 * Live controls of a running batchRun. Each is validated before anything is written to history (a
 * rejected update leaves no event) and answers with the run's settings after the change. Arguments
 * are positional so the `temporal` CLI can send them as they are: `--input 3`, `--input null`, and
 * a second `--input '"alice@laptop"'` for `by`, who is asking (default `unknown`).
 */

/** 1..MAX_CONCURRENT_JOBS shards running at once; takes effect at the next shard start. */
export const setMaxConcurrentJobsUpdate = defineUpdate<RunSettings, [maxConcurrentJobs: number, by?: string]>('setMaxConcurrentJobs');
/** No new shard starts until resumed; running shards go on. `reason` may be null (or absent from the `temporal` CLI). */
export const pauseSubmissionUpdate = defineUpdate<RunSettings, [reason: string | null, by?: string]>('pauseSubmission');
export const resumeSubmissionUpdate = defineUpdate<RunSettings, [reason: string | null, by?: string]>('resumeSubmission');
/** A positive USD budget for the jobs submitted from now on (counting what is already committed), or null to lift it. */
export const setBudgetUpdate = defineUpdate<RunSettings, [budgetUsd: number | null, by?: string]>('setBudget');
