import { SampledTokenEstimate } from '../../src/core/tokenEstimate';

const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

describe('sampled token estimate', () => {
  it('is exact while every prompt is counted', () => {
    const e = new SampledTokenEstimate(words, 10, 5);
    for (const t of ['a b c', 'd e', 'f']) e.add(t);
    expect(e.total()).toBe(Math.round(11 * (6 / 11)));
    expect(e.exact()).toBe(true);
  });

  it('scales the sampled ratio to the unsampled prompts', () => {
    const e = new SampledTokenEstimate(words, 2, 3);
    const prompts = Array.from({ length: 30 }, (_, i) => 'word '.repeat(1 + (i % 4)).trim());
    let attributed = 0;
    for (const p of prompts) attributed += e.add(p);
    const truth = prompts.reduce((n, p) => n + words(p), 0);
    expect(e.exact()).toBe(false);
    expect(Math.abs(e.total() - truth) / truth).toBeLessThan(0.1);
    expect(Math.abs(attributed - truth) / truth).toBeLessThan(0.1);
  });

  it('falls back to four characters a token before any sample', () => {
    expect(new SampledTokenEstimate(words).ratio()).toBe(0.25);
  });
});
