/**
 * What only a running run needs: Bedrock's input and output, input snapshots, part manifests,
 * the shard manifest, the resolved run, and the listing of a failed run's files.
 */
const STAGING = new Set(['bedrock-input/', 'input-snapshot/', 'prepare/', 'shards.json', 'bedrock-output/', 'run.json', '_incomplete.json']);

export interface CleanupPlan {
  remove: (entry: string) => boolean;
  /** One line on what is kept and why. */
  why: string;
}

/**
 * Which top-level entries of a run cleanup removes. A completed run keeps its results (`output/`,
 * `summary.json`) unless `all`; a failed or cancelled run's output is partial and goes too, unless
 * a `summary.json` says another run of the same key (same input, a rerun) completed there.
 */
export function cleanupPlan(opts: { status: string; hasSummary: boolean; all: boolean }): CleanupPlan {
  if (opts.all) return { remove: () => true, why: '--all: removes everything under the run' };
  if (opts.status === 'COMPLETED') {
    return { remove: (e) => STAGING.has(e), why: 'completed: keeps output/ and summary.json (--all removes them too)' };
  }
  if (opts.hasSummary) {
    return {
      remove: (e) => STAGING.has(e),
      why: `${opts.status.toLowerCase()}, but a run of the same key completed here (summary.json): keeps its output/ and summary.json (--all removes them too)`,
    };
  }
  return { remove: () => true, why: `${opts.status.toLowerCase()}: its output is partial, so everything under the run goes` };
}
