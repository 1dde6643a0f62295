import type { S3Client } from '@aws-sdk/client-s3';
import { S3Location, bucketExists, errorName, headObjectSize, listObjects, parseS3Uri, readLines } from './s3';

/** Bedrock's batch quotas that Validating enforces (not adjustable for the byte limits). */
export interface InputLimits {
  minRecordsPerJob: number;
  maxRecordsPerJob: number;
  maxRecordsPerFile: number;
  maxFileBytes: number;
  maxJobBytes: number;
}

export const DEFAULT_LIMITS: InputLimits = {
  minRecordsPerJob: 100,
  maxRecordsPerJob: 50_000,
  maxRecordsPerFile: 50_000,
  maxFileBytes: 1024 ** 3,
  maxJobBytes: 5 * 1024 ** 3,
};

export interface InputFile {
  loc: S3Location;
  size: number;
  /** Path under the input prefix (the file name for a single-file job), which names the `.out` object. */
  relativeName: string;
  records: number;
}

/** A reason Validating rejects the job; the message becomes the job's `message`. */
export class InputError extends Error {}

const uriOf = (loc: S3Location) => `s3://${loc.bucket}/${loc.key}`;

async function locateFiles(s3: S3Client, uri: string): Promise<Array<Omit<InputFile, 'records'>>> {
  const loc = parseS3Uri(uri);
  if (!(await bucketExists(s3, loc.bucket))) throw new InputError(`The input S3 bucket ${loc.bucket} does not exist or the service role cannot access it.`);
  if (loc.key && !loc.key.endsWith('/')) {
    const size = await headObjectSize(s3, loc);
    if (size !== null) {
      if (!loc.key.endsWith('.jsonl')) throw new InputError(`The input file ${uri} is not a .jsonl file. Batch inference input files must have the .jsonl extension.`);
      return [{ loc, size, relativeName: loc.key.slice(loc.key.lastIndexOf('/') + 1) }];
    }
  }
  const prefix = loc.key && !loc.key.endsWith('/') ? `${loc.key}/` : loc.key;
  const files: Array<Omit<InputFile, 'records'>> = [];
  for await (const o of listObjects(s3, loc.bucket, prefix)) {
    if (o.key.endsWith('/')) continue; // console-created "folder" markers
    if (!o.key.endsWith('.jsonl')) {
      throw new InputError(`The input location ${uri} contains ${uriOf({ bucket: loc.bucket, key: o.key })}, which is not a .jsonl file. Every file under the input prefix must have the .jsonl extension.`);
    }
    files.push({ loc: { bucket: loc.bucket, key: o.key }, size: o.size, relativeName: o.key.slice(prefix.length) });
  }
  if (files.length === 0) throw new InputError(`No input files found at ${uri}. Provide a .jsonl file or a prefix that contains .jsonl files.`);
  return files;
}

/**
 * What Validating does on AWS: the input exists and is JSONL with one JSON object per line, and the
 * record and byte quotas hold; modelInput bodies are not checked here (they fail per record).
 * `isCancelled` lets a stopped job abandon a long scan.
 */
export async function validateInput(
  s3: S3Client,
  inputUri: string,
  outputUri: string,
  limits: InputLimits = DEFAULT_LIMITS,
  isCancelled: () => boolean = () => false,
): Promise<InputFile[]> {
  try {
    const outBucket = parseS3Uri(outputUri).bucket;
    if (!(await bucketExists(s3, outBucket))) throw new InputError(`The output S3 bucket ${outBucket} does not exist or the service role cannot access it.`);
    const located = await locateFiles(s3, inputUri);
    let jobBytes = 0;
    for (const f of located) {
      if (f.size > limits.maxFileBytes) {
        throw new InputError(`The input file ${uriOf(f.loc)} is ${f.size} bytes, which exceeds the maximum file size of ${limits.maxFileBytes} bytes.`);
      }
      jobBytes += f.size;
    }
    if (jobBytes > limits.maxJobBytes) {
      throw new InputError(`The job's input files total ${jobBytes} bytes, which exceeds the maximum job size of ${limits.maxJobBytes} bytes.`);
    }
    const files: InputFile[] = [];
    let total = 0;
    for (const f of located) {
      let records = 0;
      let lineNo = 0;
      for await (const line of readLines(s3, f.loc)) {
        lineNo++;
        if (isCancelled()) return files;
        if (line.trim() === '') continue;
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          parsed = undefined;
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          throw new InputError(`Line ${lineNo} of ${uriOf(f.loc)} is not a valid JSON object. Each line of a batch input file must be one JSON object.`);
        }
        records++;
        if (records > limits.maxRecordsPerFile) {
          throw new InputError(`The input file ${uriOf(f.loc)} has more than ${limits.maxRecordsPerFile} records, the maximum per file.`);
        }
        if (total + records > limits.maxRecordsPerJob) {
          throw new InputError(`The job has more than ${limits.maxRecordsPerJob} records, the maximum per batch inference job.`);
        }
      }
      total += records;
      files.push({ ...f, records });
    }
    if (total < limits.minRecordsPerJob) {
      throw new InputError(`The job has ${total} records, fewer than the minimum of ${limits.minRecordsPerJob} records required for a batch inference job.`);
    }
    return files;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`Unable to read the job's S3 input or output location: ${errorName(err)}: ${(err as Error).message}`);
  }
}
