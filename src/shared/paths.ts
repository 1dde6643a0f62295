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

/** Files of the k-th shard cut by preprocessing part `part`; the shard manifest gives each its run-wide index. */
export function partShardPaths(runUri: string, part: number, k: number) {
  const base = runUri.replace(/\/+$/, '');
  const name = `part-${pad(part)}-shard-${pad(k)}`;
  return {
    jsonl: `${base}/bedrock-input/${name}/${name}.jsonl`,
    snapshot: `${base}/input-snapshot/${name}.parquet`,
  };
}

export function partManifestUri(runUri: string, part: number): string {
  return `${runUri.replace(/\/+$/, '')}/prepare/part-${pad(part)}.json`;
}

export function runFiles(runUri: string) {
  const base = runUri.replace(/\/+$/, '');
  return {
    shardManifest: `${base}/shards.json`,
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
