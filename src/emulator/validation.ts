import { validation } from './errors';

/**
 * Service-model patterns, quoted in error messages exactly as AWS prints them. The nested
 * quantifiers in the name and token patterns backtrack badly on long near-misses, so matching
 * uses equivalent linear forms (equivalent once the length limit has been checked).
 */
export const PATTERNS = {
  jobName: '[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9\\+\\-\\.]){0,63}',
  roleArn: 'arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+',
  clientRequestToken: '[a-zA-Z0-9]{1,256}(-*[a-zA-Z0-9]){0,256}',
  s3Uri: "s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](?:/[-!_*'().a-z0-9A-Z]+(?:/[-!_*'().a-z0-9A-Z]+)*)?/?",
};

const JOB_NAME = /^[a-zA-Z0-9][a-zA-Z0-9+\-.]{0,62}$/;
const TOKEN = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$/;
const ROLE_ARN = new RegExp(`^(?:${PATTERNS.roleArn})$`);
const S3_URI = new RegExp(`^(?:${PATTERNS.s3Uri})$`);

export const INVOCATION_TYPES = ['InvokeModel', 'Converse'] as const;
export type InvocationType = (typeof INVOCATION_TYPES)[number];

export interface S3InputDataConfig {
  s3Uri: string;
  s3InputFormat?: 'JSONL';
  s3BucketOwner?: string;
}
export interface S3OutputDataConfig {
  s3Uri: string;
  s3EncryptionKeyId?: string;
  s3BucketOwner?: string;
}
export interface VpcConfig {
  subnetIds: string[];
  securityGroupIds: string[];
}
export interface Tag {
  key: string;
  value: string;
}

export interface CreateJobRequest {
  jobName: string;
  roleArn: string;
  modelId: string;
  clientRequestToken?: string;
  inputDataConfig: { s3InputDataConfig: S3InputDataConfig };
  outputDataConfig: { s3OutputDataConfig: S3OutputDataConfig };
  vpcConfig?: VpcConfig;
  timeoutDurationInHours: number;
  tags: Tag[];
  modelInvocationType: InvocationType;
}

export const DEFAULT_TIMEOUT_HOURS = 24;
export const MIN_TIMEOUT_HOURS = 24;
export const MAX_TIMEOUT_HOURS = 168;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function shown(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  return `'${typeof value === 'string' ? value : JSON.stringify(value)}'`;
}

/** Collects constraint violations and reports them the way AWS's Coral validation layer does. */
class Violations {
  private readonly items: string[] = [];

  add(path: string, value: unknown, constraint: string): void {
    this.items.push(`Value ${shown(value)} at '${path}' failed to satisfy constraint: Member must ${constraint}`);
  }

  required(path: string, value: unknown): boolean {
    if (value === undefined || value === null) {
      this.add(path, value, 'not be null');
      return false;
    }
    return true;
  }

  string(path: string, value: unknown, min: number, max: number, pattern?: { re: RegExp; text: string }): value is string {
    if (typeof value !== 'string') {
      this.add(path, value, 'be a string');
      return false;
    }
    if (value.length < min) this.add(path, value, `have length greater than or equal to ${min}`);
    else if (value.length > max) this.add(path, value, `have length less than or equal to ${max}`);
    else if (pattern && !pattern.re.test(value)) this.add(path, value, `satisfy regular expression pattern: ${pattern.text}`);
    else return true;
    return false;
  }

  throwIfAny(): void {
    if (this.items.length === 0) return;
    const n = this.items.length;
    throw validation(`${n} validation error${n === 1 ? '' : 's'} detected: ${this.items.join('; ')}`);
  }
}

function unionMember(v: Violations, path: string, value: unknown, member: string): Record<string, unknown> | undefined {
  if (!v.required(path, value)) return undefined;
  if (!isObject(value)) {
    v.add(path, value, 'be a structure');
    return undefined;
  }
  const set = Object.keys(value).filter((k) => value[k] !== undefined && value[k] !== null);
  if (set.length !== 1) {
    v.add(path, value, `have exactly one member set, found ${set.length} (${set.join(', ') || 'none'})`);
    return undefined;
  }
  if (set[0] !== member) {
    v.add(path, value, `set member '${member}'; '${set[0]}' is not supported`);
    return undefined;
  }
  const inner = value[member];
  if (!isObject(inner)) {
    v.add(`${path}.${member}`, inner, 'be a structure');
    return undefined;
  }
  return inner;
}

function optionalAccount(v: Violations, path: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return v.string(path, value, 12, 12, { re: /^[0-9]{12}$/, text: '[0-9]{12}' }) ? value : undefined;
}

/** Checks a CreateModelInvocationJob body against the service model; throws one ValidationException listing every violation. */
export function validateCreateRequest(body: unknown): CreateJobRequest {
  if (!isObject(body)) throw validation('Request body must be a JSON object');
  const v = new Violations();

  if (v.required('jobName', body.jobName)) v.string('jobName', body.jobName, 1, 63, { re: JOB_NAME, text: PATTERNS.jobName });
  if (v.required('roleArn', body.roleArn)) v.string('roleArn', body.roleArn, 0, 2048, { re: ROLE_ARN, text: PATTERNS.roleArn });
  if (v.required('modelId', body.modelId)) v.string('modelId', body.modelId, 1, 2048);
  if (body.clientRequestToken !== undefined) {
    v.string('clientRequestToken', body.clientRequestToken, 1, 256, { re: TOKEN, text: PATTERNS.clientRequestToken });
  }

  const s3In = unionMember(v, 'inputDataConfig', body.inputDataConfig, 's3InputDataConfig');
  if (s3In) {
    if (v.required('inputDataConfig.s3InputDataConfig.s3Uri', s3In.s3Uri)) {
      v.string('inputDataConfig.s3InputDataConfig.s3Uri', s3In.s3Uri, 1, 1024, { re: S3_URI, text: PATTERNS.s3Uri });
    }
    if (s3In.s3InputFormat !== undefined && s3In.s3InputFormat !== 'JSONL') {
      v.add('inputDataConfig.s3InputDataConfig.s3InputFormat', s3In.s3InputFormat, 'satisfy enum value set: [JSONL]');
    }
    optionalAccount(v, 'inputDataConfig.s3InputDataConfig.s3BucketOwner', s3In.s3BucketOwner);
  }
  const s3Out = unionMember(v, 'outputDataConfig', body.outputDataConfig, 's3OutputDataConfig');
  if (s3Out) {
    if (v.required('outputDataConfig.s3OutputDataConfig.s3Uri', s3Out.s3Uri)) {
      v.string('outputDataConfig.s3OutputDataConfig.s3Uri', s3Out.s3Uri, 1, 1024, { re: S3_URI, text: PATTERNS.s3Uri });
    }
    if (s3Out.s3EncryptionKeyId !== undefined) v.string('outputDataConfig.s3OutputDataConfig.s3EncryptionKeyId', s3Out.s3EncryptionKeyId, 1, 2048);
    optionalAccount(v, 'outputDataConfig.s3OutputDataConfig.s3BucketOwner', s3Out.s3BucketOwner);
  }

  const timeout = body.timeoutDurationInHours ?? DEFAULT_TIMEOUT_HOURS;
  if (typeof timeout !== 'number' || !Number.isInteger(timeout)) v.add('timeoutDurationInHours', timeout, 'be an integer');
  else if (timeout < MIN_TIMEOUT_HOURS) v.add('timeoutDurationInHours', timeout, `have value greater than or equal to ${MIN_TIMEOUT_HOURS}`);
  else if (timeout > MAX_TIMEOUT_HOURS) v.add('timeoutDurationInHours', timeout, `have value less than or equal to ${MAX_TIMEOUT_HOURS}`);

  const invocationType = body.modelInvocationType ?? 'InvokeModel';
  if (!INVOCATION_TYPES.includes(invocationType as InvocationType)) {
    v.add('modelInvocationType', invocationType, `satisfy enum value set: [${INVOCATION_TYPES.join(', ')}]`);
  }

  let vpcConfig: VpcConfig | undefined;
  if (body.vpcConfig !== undefined && body.vpcConfig !== null) {
    const vpc = body.vpcConfig;
    const subnets = isObject(vpc) ? vpc.subnetIds : undefined;
    const groups = isObject(vpc) ? vpc.securityGroupIds : undefined;
    if (!Array.isArray(subnets) || subnets.length < 1 || subnets.length > 16) v.add('vpcConfig.subnetIds', subnets, 'have length between 1 and 16');
    if (!Array.isArray(groups) || groups.length < 1 || groups.length > 5) v.add('vpcConfig.securityGroupIds', groups, 'have length between 1 and 5');
    if (Array.isArray(subnets) && Array.isArray(groups)) vpcConfig = { subnetIds: subnets.map(String), securityGroupIds: groups.map(String) };
  }

  const tags = validateTags(v, 'tags', body.tags);
  v.throwIfAny();

  return {
    jobName: body.jobName as string,
    roleArn: body.roleArn as string,
    modelId: body.modelId as string,
    clientRequestToken: body.clientRequestToken as string | undefined,
    inputDataConfig: { s3InputDataConfig: pickDefined(s3In as Record<string, unknown>, ['s3Uri', 's3InputFormat', 's3BucketOwner']) as unknown as S3InputDataConfig },
    outputDataConfig: {
      s3OutputDataConfig: pickDefined(s3Out as Record<string, unknown>, ['s3Uri', 's3EncryptionKeyId', 's3BucketOwner']) as unknown as S3OutputDataConfig,
    },
    vpcConfig,
    timeoutDurationInHours: timeout as number,
    tags,
    modelInvocationType: invocationType as InvocationType,
  };
}

function pickDefined(obj: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (obj[k] !== undefined && obj[k] !== null) out[k] = obj[k];
  return out;
}

function validateTags(v: Violations, path: string, value: unknown): Tag[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    v.add(path, value, 'be a list');
    return [];
  }
  if (value.length > 200) v.add(path, `${value.length} tags`, 'have length less than or equal to 200');
  const tags: Tag[] = [];
  value.forEach((t, i) => {
    const key = isObject(t) ? t.key : undefined;
    const val = isObject(t) ? t.value : undefined;
    const okKey = v.string(`${path}.${i + 1}.member.key`, key, 1, 128);
    const okVal = v.string(`${path}.${i + 1}.member.value`, val, 0, 256);
    if (okKey && okVal) tags.push({ key: key as string, value: val as string });
  });
  return tags;
}

/** Validates tagResource's tag list on its own (same rules as Create). */
export function validateTagList(value: unknown): Tag[] {
  const v = new Violations();
  if (v.required('tags', value)) {
    const tags = validateTags(v, 'tags', value);
    v.throwIfAny();
    return tags;
  }
  v.throwIfAny();
  return [];
}
