import { validation } from './errors';
import type { InputFile } from './input';
import type { ModelFamily } from './models';
import type { CreateJobRequest, Tag } from './validation';

export const ACTIVE_STATUSES = ['Submitted', 'Validating', 'Scheduled', 'InProgress', 'Stopping'] as const;
export const TERMINAL_STATUSES = ['Completed', 'PartiallyCompleted', 'Failed', 'Stopped', 'Expired'] as const;
export type JobStatus = (typeof ACTIVE_STATUSES)[number] | (typeof TERMINAL_STATUSES)[number];
export const ALL_STATUSES: readonly string[] = [...ACTIVE_STATUSES, ...TERMINAL_STATUSES];

export const isActive = (s: JobStatus) => (ACTIVE_STATUSES as readonly string[]).includes(s);
export const isTerminal = (s: JobStatus) => (TERMINAL_STATUSES as readonly string[]).includes(s);

export interface Job {
  /** Creation order; also the pagination cursor, so pages stay stable while jobs are added. */
  seq: number;
  jobId: string;
  jobArn: string;
  request: CreateJobRequest;
  family: ModelFamily;
  tags: Tag[];
  status: JobStatus;
  message?: string;
  submitTime: Date;
  lastModifiedTime: Date;
  endTime?: Date;
  jobExpirationTime: Date;
  totalRecordCount?: number;
  processedRecordCount?: number;
  successRecordCount?: number;
  errorRecordCount?: number;
  inputTokenCount: number;
  outputTokenCount: number;
  files?: InputFile[];
  /** Decided at Create (failNextJobs) so a later setFaults does not change this job's fate. */
  failInjected: boolean;
  /** Why processing must stop early; read by the InProgress loop between records. */
  abort?: 'stop' | 'timeout' | 'fail';
  /** The expiry passed while Submitted/Validating: the job expires the moment it reaches Scheduled. */
  expiryPassed: boolean;
  phaseTimer?: NodeJS.Timeout;
  expiryTimer?: NodeJS.Timeout;
}

export interface ListQuery {
  submitTimeAfter?: Date;
  submitTimeBefore?: Date;
  statusEquals?: string;
  nameContains?: string;
  maxResults: number;
  nextToken?: string;
  sortOrder: 'Ascending' | 'Descending';
}

const iso = (d: Date | undefined) => d?.toISOString();

function encodeToken(seq: number, order: string): string {
  return Buffer.from(JSON.stringify({ v: 1, seq, order })).toString('base64url');
}

function decodeToken(token: string, order: string): number {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: number; seq?: unknown; order?: unknown };
    if (t.v === 1 && typeof t.seq === 'number' && t.order === order) return t.seq;
  } catch {
    // fall through
  }
  throw validation('The nextToken is invalid or does not belong to this request.');
}

export class JobStore {
  private readonly jobs: Job[] = [];
  private readonly byId = new Map<string, Job>();
  private readonly byToken = new Map<string, Job>();
  private readonly byName = new Map<string, Job>();

  constructor(private readonly arnPrefix: string) {}

  add(job: Job): void {
    this.jobs.push(job);
    this.byId.set(job.jobId, job);
    this.byName.set(job.request.jobName, job);
    if (job.request.clientRequestToken) this.byToken.set(job.request.clientRequestToken, job);
  }

  /** Drops every trace of a job, as a restarted service would have none: id, name and token become free. */
  forget(job: Job): void {
    const i = this.jobs.indexOf(job);
    if (i >= 0) this.jobs.splice(i, 1);
    this.byId.delete(job.jobId);
    if (this.byName.get(job.request.jobName) === job) this.byName.delete(job.request.jobName);
    const token = job.request.clientRequestToken;
    if (token && this.byToken.get(token) === job) this.byToken.delete(token);
  }

  all(): readonly Job[] {
    return this.jobs;
  }

  withToken(token: string): Job | undefined {
    return this.byToken.get(token);
  }

  withName(name: string): Job | undefined {
    return this.byName.get(name);
  }

  /** A job by ARN or 12-character id; job names are not identifiers, as on AWS. */
  find(identifier: string): Job | undefined {
    const id = identifier.startsWith(this.arnPrefix) ? identifier.slice(this.arnPrefix.length) : identifier;
    return /^[a-z0-9]{12}$/.test(id) ? this.byId.get(id) : undefined;
  }

  findByArn(arn: string): Job | undefined {
    return arn.startsWith(this.arnPrefix) ? this.find(arn) : undefined;
  }

  list(q: ListQuery): { items: Job[]; nextToken?: string } {
    const ascending = q.sortOrder === 'Ascending';
    const after = q.nextToken !== undefined ? decodeToken(q.nextToken, q.sortOrder) : undefined;
    const matching = this.jobs
      .filter((j) => after === undefined || (ascending ? j.seq > after : j.seq < after))
      .filter((j) => !q.submitTimeAfter || j.submitTime.getTime() > q.submitTimeAfter.getTime())
      .filter((j) => !q.submitTimeBefore || j.submitTime.getTime() < q.submitTimeBefore.getTime())
      .filter((j) => !q.statusEquals || j.status === q.statusEquals)
      .filter((j) => !q.nameContains || j.request.jobName.includes(q.nameContains))
      .sort((a, b) => (ascending ? a.seq - b.seq : b.seq - a.seq));
    const items = matching.slice(0, q.maxResults);
    const more = matching.length > items.length;
    return { items, nextToken: more ? encodeToken(items[items.length - 1].seq, q.sortOrder) : undefined };
  }
}

/** The Get document / List summary; absent fields are omitted, never null. */
export function jobView(job: Job): Record<string, unknown> {
  const r = job.request;
  const view: Record<string, unknown> = {
    jobArn: job.jobArn,
    jobName: r.jobName,
    modelId: r.modelId,
    clientRequestToken: r.clientRequestToken,
    roleArn: r.roleArn,
    status: job.status,
    message: job.message,
    submitTime: iso(job.submitTime),
    lastModifiedTime: iso(job.lastModifiedTime),
    endTime: iso(job.endTime),
    inputDataConfig: r.inputDataConfig,
    outputDataConfig: r.outputDataConfig,
    vpcConfig: r.vpcConfig,
    timeoutDurationInHours: r.timeoutDurationInHours,
    jobExpirationTime: iso(job.jobExpirationTime),
    modelInvocationType: r.modelInvocationType,
    totalRecordCount: job.totalRecordCount,
    processedRecordCount: job.processedRecordCount,
    successRecordCount: job.successRecordCount,
    errorRecordCount: job.errorRecordCount,
  };
  for (const k of Object.keys(view)) if (view[k] === undefined) delete view[k];
  return view;
}
