/**
 * Bedrock job name of one attempt at one shard. Deterministic and free of Node APIs so the
 * workflow can name the job it must stop even when the submit never reported back.
 * Names are unique per account and Region, which is what makes a second submit find the first job.
 */
export function bedrockJobName(runName: string, runKey: string, shardIndex: number, attempt: number): string {
  const suffix = `-${runKey}-s${String(shardIndex).padStart(5, '0')}-a${attempt}`;
  return `${runName.slice(0, 63 - suffix.length)}${suffix}`;
}

/** The job id at the end of a job ARN (`…:model-invocation-job/<jobId>`), the folder Bedrock writes its outputs under. */
export function jobIdOfArn(jobArn: string): string {
  return jobArn.slice(jobArn.lastIndexOf('/') + 1);
}

/** Statuses after which a job's outputs are final and billed, so they are harvested. */
export const HARVESTABLE_JOB_STATUSES = ['Completed', 'PartiallyCompleted', 'Stopped', 'Expired'];
export const TERMINAL_JOB_STATUSES = [...HARVESTABLE_JOB_STATUSES, 'Failed'];
