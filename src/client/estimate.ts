import { ActivityDeps } from '../activities';
import { ShardTokenTally } from '../activities/datasetScan';
import { planRunParts, scanPart } from '../activities/prepareParts';
import { checkModelInCatalog } from '../activities/modelCheck';
import { makeResolveRun } from '../activities/resolveRun';
import { RunEstimate, estimateRun } from '../core/estimate';
import type { ShardSummary } from '../core/shardPlan';
import { maxOutputTokens, resolveModelAdapter } from '../models/registry';
import { ClientRunInput, resolveLocalInput } from './localInput';

/**
 * What a run would submit and cost, computed where the client runs: the same checks, parts,
 * rendering and shard planning as the run itself, reading the dataset once and writing nothing.
 */
export async function estimateRunInput(deps: ActivityDeps, input: ClientRunInput, opts: { exactTokens?: boolean } = {}): Promise<RunEstimate> {
  await checkModelInCatalog(deps, input); // before a local file is uploaded; resolveRun repeats it and asks Bedrock
  const run = await makeResolveRun(deps)(await resolveLocalInput(deps.s3, input));
  const { parts } = await planRunParts(deps, run);
  const shards: ShardSummary[] = [];
  const tokens: number[] = [];
  let tokenizer: RunEstimate['tokenizer'] | undefined;
  for (const part of parts) {
    const tally = new ShardTokenTally();
    const scan = await scanPart(deps, run, part, () => tally, { exactTokens: opts.exactTokens });
    for (const s of scan.shards) shards.push({ ...s, index: shards.length, rejected: tally.rejected[s.index] ?? 0 });
    tokens.push(...scan.shards.map((s) => tally.tokens[s.index] ?? 0));
    tokenizer = { ...scan.tokenizer, exact: scan.tokenizer.exact && (tokenizer?.exact ?? true) };
  }
  const adapter = resolveModelAdapter(run.modelId, run.invocationType);
  return estimateRun(run.modelId, deps.prices, shards, tokens, maxOutputTokens(adapter, run.modelParams), tokenizer!);
}
