/**
 * Bedrock job name of one attempt at one shard. Deterministic and free of Node APIs so the
 * workflow can name the job it must stop even when the submit never reported back.
 * Names are unique per account and Region, which is what makes a second submit find the first job.
 */
export function bedrockJobName(runName: string, runKey: string, shardIndex: number, attempt: number): string {
  const suffix = `-${runKey}-s${String(shardIndex).padStart(5, '0')}-a${attempt}`;
  return `${runName.slice(0, 63 - suffix.length)}${suffix}`;
}

/**
 * Bedrock job name of the run's `n`-th pooled job, which takes the small remainders of several
 * shards at once; deterministic from the run key, so a crash, reset or rerun finds it again.
 */
export function gatherJobName(runName: string, runKey: string, n: number): string {
  const suffix = `-${runKey}-gather-${n}`;
  return `${runName.slice(0, 63 - suffix.length)}${suffix}`;
}

/** The job id at the end of a job ARN (`…:model-invocation-job/<jobId>`), the folder Bedrock writes its outputs under. */
export function jobIdOfArn(jobArn: string): string {
  return jobArn.slice(jobArn.lastIndexOf('/') + 1);
}

/** Statuses after which a job's outputs are final and billed, so they are harvested. */
export const HARVESTABLE_JOB_STATUSES = ['Completed', 'PartiallyCompleted', 'Stopped', 'Expired'];
export const TERMINAL_JOB_STATUSES = [...HARVESTABLE_JOB_STATUSES, 'Failed'];

/** A shard's own job (bedrockJobName): which run key, shard and attempt. */
export interface ShardJobName {
  runKey: string;
  shardIndex: number;
  attempt: number;
}

/** A run's pooled job (gatherJobName): which run key, and its number `gather` in the run. */
export interface GatherJobName {
  runKey: string;
  gather: number;
}

/**
 * What a job name this app gave says: a shard's job (followed by the shard's workflow) or a run's
 * pooled job (followed by the run's own workflow); undefined for any other name. Matched at the
 * end, as the run name in front is cut to fit Bedrock's 63 characters.
 */
export function parseBedrockJobName(jobName: string): ShardJobName | GatherJobName | undefined {
  const shard = /-([0-9a-f]{16})-s(\d{5,})-a(\d+)$/.exec(jobName);
  if (shard) return { runKey: shard[1], shardIndex: Number(shard[2]), attempt: Number(shard[3]) };
  const gather = /-([0-9a-f]{16})-gather-([1-9]\d*)$/.exec(jobName);
  return gather ? { runKey: gather[1], gather: Number(gather[2]) } : undefined;
}
