/**
 * Gathering small remainders: which shards' remainders go into which pooled job, and what the
 * jobs could cost. Pure, so the workflow decides deterministically and tests check it directly.
 */
import { MIN_RECORDS_PER_JOB } from './outcome';

export interface RemainderRef {
  shardIndex: number;
  /** Records of the remainder, and of the whole shard (to take its share of the shard's cost bound). */
  records: number;
  shardRows: number;
}

export interface GatherGroup {
  /** The pooled job's number in the run (names it: `…-gather-<n>`), from 1. */
  n: number;
  shardIndexes: number[];
  records: number;
}

/**
 * Whole remainders in shard order, packed into jobs of at most `maxRecordsPerJob`. A group under
 * Bedrock's minimum (all of them together, or the last after full ones) is no job: its shards are
 * `left` for the small-remainder option. The same remainders always give the same groups, so a
 * replayed or rerun run names the same pooled jobs.
 */
export function planGather(refs: RemainderRef[], maxRecordsPerJob: number): { groups: GatherGroup[]; left: number[] } {
  const sorted = [...refs].filter((r) => r.records > 0).sort((a, b) => a.shardIndex - b.shardIndex);
  const groups: GatherGroup[] = [];
  let current: GatherGroup | undefined;
  for (const ref of sorted) {
    if (!current || current.records + ref.records > maxRecordsPerJob) {
      current = { n: groups.length + 1, shardIndexes: [], records: 0 };
      groups.push(current);
    }
    current.shardIndexes.push(ref.shardIndex);
    current.records += ref.records;
  }
  const last = groups[groups.length - 1];
  if (last && last.records < MIN_RECORDS_PER_JOB) {
    groups.pop();
    return { groups, left: last.shardIndexes };
  }
  return { groups, left: [] };
}

/** Upper bound of a pooled job's batch cost: each remainder's share of its shard's bound (by records). */
export function gatherCostUsd(refs: RemainderRef[], shardCosts: number[] | undefined): number {
  let cost = 0;
  for (const r of refs) cost += r.shardRows > 0 ? ((shardCosts?.[r.shardIndex] ?? 0) * r.records) / r.shardRows : 0;
  return cost;
}
