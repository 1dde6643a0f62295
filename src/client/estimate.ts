import { ActivityDeps } from '../activities';
import { ShardTokenTally, scanDataset } from '../activities/datasetScan';
import { makeResolveRun } from '../activities/resolveRun';
import { RunEstimate, estimateRun } from '../core/estimate';
import { maxOutputTokens, resolveModelAdapter } from '../models/registry';
import { ClientRunInput, resolveLocalInput } from './localInput';

/**
 * What a run would submit and cost, computed where the client runs: the same checks, rendering
 * and shard planning as the run itself, reading the dataset once and writing nothing.
 */
export async function estimateRunInput(deps: ActivityDeps, input: ClientRunInput, opts: { exactTokens?: boolean } = {}): Promise<RunEstimate> {
  const run = await makeResolveRun(deps)(await resolveLocalInput(deps.s3, input));
  const tally = new ShardTokenTally();
  const scan = await scanDataset(deps, run, () => tally, { exactTokens: opts.exactTokens });
  const adapter = resolveModelAdapter(run.modelId, run.invocationType);
  return estimateRun(run.modelId, deps.prices, scan.shards, tally.tokens, maxOutputTokens(adapter, run.modelParams), scan.tokenizer);
}
