/** Where a run's files live under its run URI; pure string functions shared by activities. */
const pad = (i: number) => String(i).padStart(5, '0');

export function shardPaths(runUri: string, shardIndex: number) {
  const base = runUri.replace(/\/+$/, '');
  const name = `shard-${pad(shardIndex)}`;
  return {
    jsonl: `${base}/bedrock-input/${name}/${name}.jsonl`,
    inputDir: `${base}/bedrock-input/${name}/`,
    snapshot: `${base}/input-snapshot/${name}.parquet`,
    bedrockOutput: `${base}/bedrock-output/${name}/`,
    part: `${base}/output/part-${pad(shardIndex)}.parquet`,
  };
}

/**
 * JSONL of the records a later attempt re-drives (those no earlier job answered). It sits under
 * its own prefix: Bedrock reads every `.jsonl` under an input prefix.
 */
export function redriveInputUri(runUri: string, shardIndex: number, attempt: number): string {
  const name = `shard-${pad(shardIndex)}-a${attempt}`;
  return `${runUri.replace(/\/+$/, '')}/bedrock-input/redrive/${name}/${name}.jsonl`;
}

/**
 * Answers of a shard's small remainder called on demand, in batch output lines (`*.jsonl.out`), one
 * object per chunk of records. Beside the job folders (Bedrock job ids are 12 alphanumerics, never this).
 */
export function onDemandOutputPrefix(runUri: string, shardIndex: number): string {
  return `${shardPaths(runUri, shardIndex).bedrockOutput}on-demand/`;
}

/**
 * The run's `n`-th pooled job (small remainders of several shards): its input JSONL, under a prefix
 * of its own as a re-drive's, and the folder it writes its outputs under (beside the shards').
 */
export function gatherPaths(runUri: string, n: number) {
  const base = runUri.replace(/\/+$/, '');
  const name = `gather-${pad(n)}`;
  return { jsonl: `${base}/bedrock-input/gather/${name}/${name}.jsonl`, bedrockOutput: `${base}/bedrock-output/${name}/` };
}

/** Files of the k-th shard cut by preprocessing part `part`; the shard manifest gives each its run-wide index. */
export function partShardPaths(runUri: string, part: number, k: number) {
  const base = runUri.replace(/\/+$/, '');
  const name = `part-${pad(part)}-shard-${pad(k)}`;
  return {
    jsonl: `${base}/bedrock-input/${name}/${name}.jsonl`,
    snapshot: `${base}/input-snapshot/${name}.parquet`,
    /** Records kept out of the job (RECORD_TOO_LARGE): beside the snapshot, never under bedrock-input/ (Bedrock reads every .jsonl there). */
    skipped: `${base}/input-snapshot/${name}.skipped.jsonl`,
  };
}

export function partManifestUri(runUri: string, part: number): string {
  return `${runUri.replace(/\/+$/, '')}/prepare/part-${pad(part)}.json`;
}

/** A part's checkpoint while it is prepared: its finished shards' entries, so a retry resumes after them. */
export function partProgressUri(runUri: string, part: number): string {
  return `${runUri.replace(/\/+$/, '')}/prepare/part-${pad(part)}.progress.json`;
}

export function runFiles(runUri: string) {
  const base = runUri.replace(/\/+$/, '');
  return {
    shardManifest: `${base}/shards.json`,
    /** The resolved run, template and system prompt included (history carries only its slim form). */
    runFile: `${base}/run.json`,
    outputDir: `${base}/output/`,
    manifest: `${base}/output/_manifest.json`,
    summary: `${base}/summary.json`,
  };
}

/**
 * The `file`-th Parquet file of shard `shardIndex`'s output: `output/part-SSSSS-FFF.parquet`
 * (a shard's output is cut into files of bounded size). `outputFileIndex` reads the numbers back
 * from an object key, or returns undefined for any other name.
 */
export function outputFileUri(runUri: string, shardIndex: number, file: number): string {
  return `${runUri.replace(/\/+$/, '')}/output/part-${pad(shardIndex)}-${String(file).padStart(3, '0')}.parquet`;
}

export function outputFileIndex(key: string): { shardIndex: number; file?: number } | undefined {
  const m = /(?:^|\/)part-(\d{5,})(?:-(\d{3,}))?\.parquet$/.exec(key);
  return m ? { shardIndex: Number(m[1]), file: m[2] === undefined ? undefined : Number(m[2]) } : undefined;
}

/** `_incomplete.json`: what a failed or cancelled run left under its run URI, and how to remove it. */
export function incompleteListingUri(runUri: string): string {
  return `${runUri.replace(/\/+$/, '')}/_incomplete.json`;
}

/**
 * The top-level entry under the run URI that an object belongs to: its first folder with the
 * slash (`bedrock-input/`) or, for an object at the top, its name (`shards.json`); undefined for
 * an object outside the run (a sibling run whose key merely starts the same way included).
 */
export function runEntryOf(runUri: string, objectUri: string): string | undefined {
  const base = `${runUri.replace(/\/+$/, '')}/`;
  if (!objectUri.startsWith(base) || objectUri.length === base.length) return undefined;
  const rest = objectUri.slice(base.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? rest : rest.slice(0, slash + 1);
}

/** The CLI command that removes a run's files; the id is quoted when a shell would split or expand it. */
export function cleanupCommand(workflowId: string): string {
  const id = /^[\w.:@/+=,-]+$/.test(workflowId) ? workflowId : `'${workflowId.replace(/'/g, `'\\''`)}'`;
  return `npm run cli -- cleanup ${id}`;
}
