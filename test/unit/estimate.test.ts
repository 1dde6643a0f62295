import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkPriceTable } from '../../src/core/cost';
import { estimateRun, formatEstimate } from '../../src/core/estimate';

const prices = checkPriceTable(JSON.parse(readFileSync(resolve(__dirname, '../../config/prices.json'), 'utf8')), 'prices');
const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const tokenizer = { kind: 'claude', exact: true, note: '' };

describe('run estimate', () => {
  const shards = [
    { index: 0, records: 500, bytes: 1 },
    { index: 1, records: 300, bytes: 1 },
  ];

  it('adds input tokens per shard and bounds output by max tokens × records', () => {
    const e = estimateRun(HAIKU, prices, shards, [100_000, 60_000], 200, tokenizer);
    expect(e).toMatchObject({ records: 800, jobs: 2, inputTokens: 160_000, outputTokensMax: 160_000 });
    // shard 0: 100k in × $0.25/M + 100k out × $1.25/M = $0.15 on demand, $0.075 in batch
    expect(e.shards[0]).toEqual({ index: 0, records: 500, inputTokens: 100_000, outputTokensMax: 100_000, batchCostMax: 0.075 });
    expect(e.cost.batchCost).toBeCloseTo(0.12, 6);
  });

  it('counts rows over the input limit, bounds no output for them, and prints how many', () => {
    const e = estimateRun(HAIKU, prices, [{ ...shards[0], rejected: 20 }, shards[1]], [100_000, 60_000], 200, tokenizer);
    expect(e).toMatchObject({ records: 800, rejectedBeforeSubmit: 20, outputTokensMax: 780 * 200 });
    expect(formatEstimate(e, HAIKU)).toMatch(/^over the limit\s+20 records, not sent: RECORD_TOO_LARGE rows/m);
    expect(formatEstimate(estimateRun(HAIKU, prices, shards, [1, 1], 1, tokenizer), HAIKU)).not.toMatch(/over the limit/);
  });

  it('has no cost for a model without a price, and prints a table saying so', () => {
    const e = estimateRun('vendor.unknown-v1', prices, shards, [1, 2], 10, { kind: 'approx-chars', exact: false, note: '±15%' });
    expect(e.cost.batchCost).toBeUndefined();
    expect(e.shards.map((s) => s.batchCostMax)).toEqual([0, 0]);
    const table = formatEstimate(e, 'vendor.unknown-v1');
    expect(table).toMatch(/^batch cost\s+≤ no price/m);
    expect(table).toMatch(/estimated: ±15%/);
  });
});
