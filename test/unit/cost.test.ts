import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PriceTableError, checkPriceTable, costOf, priceOf } from '../../src/core/cost';

const table = checkPriceTable(JSON.parse(readFileSync(resolve(__dirname, '../../config/prices.json'), 'utf8')), 'config/prices.json');

describe('price table and cost', () => {
  it('the shipped table is valid, dated, and at the batch discount', () => {
    expect(table.pricesAsOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(table.batchDiscount).toBe(0.5);
    expect(Object.keys(table.models).length).toBeGreaterThan(10);
  });

  it('finds a model by bare id, profile id and ARN', () => {
    const haiku = priceOf(table, 'anthropic.claude-3-haiku-20240307-v1:0');
    expect(haiku).toEqual({ inputPer1k: 0.00025, outputPer1k: 0.00125 });
    expect(priceOf(table, 'us.anthropic.claude-3-haiku-20240307-v1:0')).toBe(haiku);
    expect(priceOf(table, 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0')).toBe(haiku);
    expect(priceOf(table, 'vendor.unknown-v1')).toBeUndefined();
  });

  it('computes batch cost as the discount of on-demand', () => {
    // 1M input at $0.25/M and 200k output at $1.25/M = $0.50 on demand, $0.25 in batch.
    expect(costOf(table, 'anthropic.claude-3-haiku-20240307-v1:0', 1_000_000, 200_000)).toEqual({
      currency: 'USD', pricesAsOf: table.pricesAsOf, onDemandCost: 0.5, batchCost: 0.25,
    });
    expect(costOf(table, 'vendor.unknown-v1', 10, 10)).toEqual({ currency: 'USD', pricesAsOf: table.pricesAsOf });
  });

  it('rejects a table with a missing date or bad prices, naming them', () => {
    expect(() => checkPriceTable({ batchDiscount: 0.5, models: {} }, 'p.json')).toThrow(/p.json: pricesAsOf/);
    expect(() => checkPriceTable({ pricesAsOf: 'x', batchDiscount: 0.5, models: { m: { inputPer1k: -1, outputPer1k: 0 } } }, 'p.json')).toThrow(PriceTableError);
    expect(() => checkPriceTable({ pricesAsOf: 'x', batchDiscount: 2, models: {} }, 'p.json')).toThrow(/batchDiscount/);
  });
});
