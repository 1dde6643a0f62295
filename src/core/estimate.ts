import { CostReport, PriceTable, costOf } from './cost';
import { ShardSummary } from './shardPlan';

export interface ShardEstimate {
  index: number;
  records: number;
  inputTokens: number;
  outputTokensMax: number;
  /** Batch cost if every record used its full output budget; 0 when the model has no price. */
  batchCostMax: number;
}

export interface RunEstimate {
  records: number;
  jobs: number;
  inputTokens: number;
  /** Output tokens if every record used its max-tokens setting: an upper bound. */
  outputTokensMax: number;
  /** Of `records`: those over the model's input limit or the file limit, not sent (RECORD_TOO_LARGE rows); absent in older estimates. */
  rejectedBeforeSubmit?: number;
  cost: CostReport;
  tokenizer: { kind: string; exact: boolean; note: string };
  shards: ShardEstimate[];
}

/** Input tokens counted (or sampled) per shard, output tokens bounded by the max-tokens setting. */
export function estimateRun(
  modelId: string,
  prices: PriceTable,
  shards: ShardSummary[],
  shardInputTokens: readonly number[],
  maxOutputTokensPerRecord: number,
  tokenizer: RunEstimate['tokenizer'],
): RunEstimate {
  const perShard = shards.map((s) => {
    const inputTokens = shardInputTokens[s.index] ?? 0;
    // Rejected rows are never sent: no output to pay for.
    const outputTokensMax = (s.records - (s.rejected ?? 0)) * maxOutputTokensPerRecord;
    return { index: s.index, records: s.records, inputTokens, outputTokensMax, batchCostMax: costOf(prices, modelId, inputTokens, outputTokensMax).batchCost ?? 0 };
  });
  const inputTokens = perShard.reduce((n, s) => n + s.inputTokens, 0);
  const outputTokensMax = perShard.reduce((n, s) => n + s.outputTokensMax, 0);
  return {
    records: perShard.reduce((n, s) => n + s.records, 0),
    jobs: perShard.length,
    inputTokens,
    outputTokensMax,
    rejectedBeforeSubmit: shards.reduce((n, s) => n + (s.rejected ?? 0), 0),
    cost: costOf(prices, modelId, inputTokens, outputTokensMax),
    tokenizer,
    shards: perShard,
  };
}

/** A plain-text table of an estimate, for the CLI. */
export function formatEstimate(e: RunEstimate, modelId: string): string {
  const money = (x: number | undefined) => (x === undefined ? 'no price' : `$${x.toFixed(4)}`);
  const lines = [
    `model            ${modelId}`,
    `records          ${e.records.toLocaleString('en-US')}`,
    `jobs (shards)    ${e.jobs}`,
    ...(e.rejectedBeforeSubmit ? [`over the limit   ${e.rejectedBeforeSubmit.toLocaleString('en-US')} records, not sent: RECORD_TOO_LARGE rows (over the model's input limit or Bedrock's 1 GB input file)`] : []),
    `input tokens     ${e.inputTokens.toLocaleString('en-US')}  (${e.tokenizer.kind}${e.tokenizer.exact ? ', exact' : `, estimated: ${e.tokenizer.note}`})`,
    `output tokens    ≤ ${e.outputTokensMax.toLocaleString('en-US')}  (max tokens × records)`,
    `batch cost       ≤ ${money(e.cost.batchCost)}  (on demand ${money(e.cost.onDemandCost)}; prices of ${e.cost.pricesAsOf})`,
  ];
  return lines.join('\n');
}
