/**
 * The EventBridge event Bedrock sends when a batch inference job changes status, as AWS documents
 * it in "How EventBridge for Amazon Bedrock works", tab "Batch Inference Job State Change"
 * (https://docs.aws.amazon.com/bedrock/latest/userguide/monitoring-eventbridge-how-it-works.html).
 * An EventBridge rule whose target is an SQS queue delivers the whole event as the message body.
 * Pure code: the emulator builds events with it and the worker's consumer parses them.
 */
export const BEDROCK_EVENT_SOURCE = 'aws.bedrock';
export const BATCH_JOB_STATE_CHANGE = 'Batch Inference Job State Change';

export interface BatchJobStateChangeDetail {
  version: string;
  accountId: string;
  batchJobName: string;
  batchJobArn: string;
  batchModelId: string;
  /** A ModelInvocationJobStatus: Submitted, Validating, Scheduled, InProgress, Completed, … */
  status: string;
  /** Empty unless the job failed. */
  failureMessage: string;
  /** AWS's sample writes it as the console does ("Aug 28, 2024, 10:47:53 PM"); it is informational only. */
  creationTime: string;
}

export interface BatchJobStateChangeEvent {
  version: '0';
  id: string;
  'detail-type': typeof BATCH_JOB_STATE_CHANGE;
  source: typeof BEDROCK_EVENT_SOURCE;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: BatchJobStateChangeDetail;
}

/** What the consumer needs of an event: which job, and its status now. */
export interface JobStateChange {
  jobArn: string;
  jobName: string;
  status: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `creationTime` in the documented sample's form, in UTC. */
export function consoleTime(d: Date): string {
  const h = d.getUTCHours();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}, ${h % 12 || 12}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

export function batchJobStateChangeEvent(e: {
  id: string;
  region: string;
  accountId: string;
  jobArn: string;
  jobName: string;
  modelId: string;
  status: string;
  message?: string;
  submitTime: Date;
  at: Date;
}): BatchJobStateChangeEvent {
  return {
    version: '0',
    id: e.id,
    'detail-type': BATCH_JOB_STATE_CHANGE,
    source: BEDROCK_EVENT_SOURCE,
    account: e.accountId,
    time: e.at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: e.region,
    resources: [e.jobArn],
    detail: {
      version: '0.0',
      accountId: e.accountId,
      batchJobName: e.jobName,
      batchJobArn: e.jobArn,
      batchModelId: e.modelId,
      status: e.status,
      failureMessage: e.status === 'Failed' ? (e.message ?? '') : '',
      creationTime: consoleTime(e.submitTime),
    },
  };
}

/**
 * The job and status of an SQS message body holding a Batch Inference Job State Change event;
 * throws saying what is wrong otherwise. Fields beyond those read are not checked: AWS may add some.
 */
export function parseBatchJobStateChange(body: string): JobStateChange {
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    throw new Error('not JSON');
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) throw new Error('not a JSON object');
  const e = event as Record<string, unknown>;
  if (e.source !== BEDROCK_EVENT_SOURCE || e['detail-type'] !== BATCH_JOB_STATE_CHANGE) {
    throw new Error(`not a "${BATCH_JOB_STATE_CHANGE}" event of ${BEDROCK_EVENT_SOURCE} (source ${JSON.stringify(e.source)}, detail-type ${JSON.stringify(e['detail-type'])})`);
  }
  const d = e.detail;
  if (typeof d !== 'object' || d === null) throw new Error('the event has no detail');
  const { batchJobArn, batchJobName, status } = d as Record<string, unknown>;
  for (const [name, value] of Object.entries({ batchJobArn, batchJobName, status })) {
    if (typeof value !== 'string' || value === '') throw new Error(`detail.${name} is missing`);
  }
  return { jobArn: batchJobArn as string, jobName: batchJobName as string, status: status as string };
}
