import type { S3Client } from '@aws-sdk/client-s3';
import { createObjectWriter, openObjectStream } from '../io/s3';
import { readLineBatches } from '../io/lineSplitter';
import { gatherPaths } from '../shared/paths';
import type { ResolvedRun } from '../shared/types';
import type { ActivityDeps } from './deps';
import { progressHeartbeat } from './heartbeat';
import { inputRecordId } from './redrive';

export interface GatherInputRequest {
  run: Pick<ResolvedRun, 'runUri'>;
  /** Which of the run's pooled jobs this input is for (names its file). */
  gather: number;
  /** The shards' remainder JSONLs (prepareRedrive's files), in shard order. */
  inputUris: string[];
}

/**
 * Concatenates several shards' small remainders into one JSONL for a pooled job. Record ids are
 * row positions, unique across the run, so the lines need no renaming and each shard later takes
 * back its own by id. The same remainders give the same file, so a retry rewrites it unchanged.
 */
export function makeGatherInput(deps: ActivityDeps) {
  async function buildGatherInput(req: GatherInputRequest): Promise<{ records: number; inputUri: string }> {
    const inputUri = gatherPaths(req.run.runUri, req.gather).jsonl;
    const writer = createObjectWriter(deps.s3, inputUri);
    const heartbeat = progressHeartbeat();
    let records = 0;
    try {
      for (const uri of req.inputUris) {
        for await (const batch of readLineBatches((await openObjectStream(deps.s3, uri)).body)) {
          for (const line of batch) {
            if (line.length === 0) continue;
            records += 1;
            await writer.write(Buffer.concat([line, Buffer.from('\n')]));
          }
          heartbeat({ records });
        }
      }
    } catch (err) {
      await writer.abort();
      throw err;
    }
    await writer.close();
    return { records, inputUri };
  }
  return { buildGatherInput };
}

/** The record ids in a shard's remainder JSONL: which lines of a pooled job's output are that shard's (under 100, by construction). */
export async function pooledRecordIds(s3: S3Client, recordsUri: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const batch of readLineBatches((await openObjectStream(s3, recordsUri)).body)) {
    for (const line of batch) if (line.length) ids.add(inputRecordId(line));
  }
  return ids;
}
