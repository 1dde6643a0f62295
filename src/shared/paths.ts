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

export function runFiles(runUri: string) {
  const base = runUri.replace(/\/+$/, '');
  return {
    shardManifest: `${base}/shards.json`,
    outputDir: `${base}/output/`,
    manifest: `${base}/output/_manifest.json`,
    summary: `${base}/summary.json`,
  };
}
