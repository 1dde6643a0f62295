import { createObjectWriter, listObjects, openObjectStream } from '../io/s3';
import { readLineBatches } from '../io/lineSplitter';
import { outputLineParser } from '../core/outputLine';
import { resolveModelAdapter } from '../models/registry';
import { redriveInputUri, shardPaths } from '../shared/paths';
import type { ResolvedRun, ShardJob } from '../shared/types';
import type { ActivityDeps } from './deps';
import { jobIdOfArn } from '../shared/jobNames';
import { progressHeartbeat } from './heartbeat';
import { shardInputFiles } from './shardLookup';

export interface RedriveRequest {
  run: Pick<ResolvedRun, 'runUri' | 'modelId' | 'invocationType'>;
  shardIndex: number;
  /** The attempt that will take the records. */
  attempt: number;
  /** The shard's jobs so far; a record any of them answered is not sent again. */
  jobs: ShardJob[];
}

export interface RedriveInput {
  /** Records no job has answered yet (record errors included). */
  records: number;
  /** JSONL holding exactly those records, for the next job. */
  inputUri: string;
}

const RECORD_ID_PREFIX = '{"recordId":"';

/** The record id of a JSONL input line; preprocessing writes it first, so most lines need no parse. */
export function inputRecordId(line: Buffer): string {
  const text = line.toString('utf8');
  if (text.startsWith(RECORD_ID_PREFIX)) {
    const end = text.indexOf('"', RECORD_ID_PREFIX.length);
    if (end > 0) return text.slice(RECORD_ID_PREFIX.length, end);
  }
  return String((JSON.parse(text) as { recordId: unknown }).recordId);
}

/**
 * Writes the shard's input lines that no job has answered into a new JSONL, so the next attempt
 * pays only for them. The same jobs give the same file, so a rerun finds the same job for it.
 */
export function makeRedrive(deps: ActivityDeps) {
  async function answeredIds(req: RedriveRequest): Promise<Set<string>> {
    const parse = outputLineParser(resolveModelAdapter(req.run.modelId, req.run.invocationType));
    const answered = new Set<string>();
    const heartbeat = progressHeartbeat();
    const outputDir = shardPaths(req.run.runUri, req.shardIndex).bedrockOutput;
    for (const job of req.jobs) {
      // A pooled job's output also answers other shards' records: harmless here, only this shard's lines are filtered by it.
      for await (const object of listObjects(deps.s3, `${job.pooled?.outputPrefix ?? outputDir}${jobIdOfArn(job.jobArn)}/`)) {
        if (!object.key.endsWith('.jsonl.out')) continue;
        for await (const batch of readLineBatches((await openObjectStream(deps.s3, object.uri)).body)) {
          for (const line of batch) {
            const result = parse(line);
            if (result && result.errorCode === undefined) answered.add(result.recordId);
          }
          heartbeat({ answered: answered.size });
        }
      }
    }
    return answered;
  }

  async function prepareRedrive(req: RedriveRequest): Promise<RedriveInput> {
    const answered = await answeredIds(req);
    const source = (await shardInputFiles(deps.s3, req.run, req.shardIndex)).jsonl;
    const inputUri = redriveInputUri(req.run.runUri, req.shardIndex, req.attempt);
    const writer = createObjectWriter(deps.s3, inputUri);
    const heartbeat = progressHeartbeat();
    let records = 0;
    let lines = 0;
    try {
      for await (const batch of readLineBatches((await openObjectStream(deps.s3, source)).body)) {
        for (const line of batch) {
          if (line.length === 0) continue;
          heartbeat({ lines: ++lines });
          if (answered.has(inputRecordId(line))) continue;
          records += 1;
          await writer.write(Buffer.concat([line, Buffer.from('\n')]));
        }
      }
    } catch (err) {
      await writer.abort();
      throw err;
    }
    await writer.close();
    return { records, inputUri };
  }

  return { prepareRedrive };
}
