import { baseModelId } from '../models/registry';

export interface ModelPrice {
  inputPer1k: number;
  outputPer1k: number;
}

/** On-demand prices per model; batch jobs are billed at `batchDiscount` of them. Kept as data users update. */
export interface PriceTable {
  currency: string;
  pricesAsOf: string;
  source: string;
  batchDiscount: number;
  models: Record<string, ModelPrice>;
}

export interface CostReport {
  currency: string;
  pricesAsOf: string;
  /** Undefined when the table has no price for the model. */
  batchCost?: number;
  onDemandCost?: number;
}

export class PriceTableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PriceTableError';
  }
}

export function checkPriceTable(raw: unknown, source: string): PriceTable {
  const t = raw as Partial<PriceTable>;
  const problems: string[] = [];
  if (typeof t?.pricesAsOf !== 'string') problems.push('pricesAsOf (a date) is missing');
  if (typeof t?.batchDiscount !== 'number' || !(t.batchDiscount > 0 && t.batchDiscount <= 1)) problems.push('batchDiscount must be in (0, 1]');
  for (const [id, p] of Object.entries(t?.models ?? {})) {
    if (!(p?.inputPer1k >= 0) || !(p?.outputPer1k >= 0)) problems.push(`model ${id} needs non-negative inputPer1k and outputPer1k`);
  }
  if (problems.length) throw new PriceTableError(`${source}: ${problems.join('; ')}`);
  return { currency: 'USD', source: '', models: {}, ...t } as PriceTable;
}

/** The price of a model id in any form (profile id, ARN), found by its base id. */
export function priceOf(table: PriceTable, modelId: string): ModelPrice | undefined {
  return table.models[modelId] ?? table.models[baseModelId(modelId)];
}

export function costOf(table: PriceTable, modelId: string, inputTokens: number, outputTokens: number): CostReport {
  const price = priceOf(table, modelId);
  const report: CostReport = { currency: table.currency, pricesAsOf: table.pricesAsOf };
  if (!price) return report;
  const onDemand = (inputTokens / 1000) * price.inputPer1k + (outputTokens / 1000) * price.outputPer1k;
  return { ...report, onDemandCost: round(onDemand), batchCost: round(onDemand * table.batchDiscount) };
}

/** Cents to six decimals: enough for per-token prices, and stable in JSON. */
function round(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
