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

  it('thins the sample once it has enough counts, unless every prompt is to be counted', () => {
    let calls = 0;
    const counting = (t: string) => {
      calls += 1;
      return words(t);
    };
    const e = new SampledTokenEstimate(counting, 100, 10, 50);
    let attributed = 0;
    for (let i = 0; i < 100_000; i++) attributed += e.add('a b c d');
    // 100 warmup, 50 at one in 10 (rows 101..600), then one in 200.
    expect(calls).toBe(100 + 50 + Math.floor((100_000 - 600) / 200));
    expect(e.total()).toBe(400_000);
    expect(attributed).toBe(400_000);
    calls = 0;
    const exact = new SampledTokenEstimate(counting, 100, 1, 50);
    for (let i = 0; i < 10_000; i++) exact.add('a b');
    expect(calls).toBe(10_000);
    expect(exact.exact()).toBe(true);
  });

  it('falls back to four characters a token before any sample', () => {
    expect(new SampledTokenEstimate(words).ratio()).toBe(0.25);
  });

  it('addLazy gives what add gives, building the text only for counted prompts', () => {
    const prompts = Array.from({ length: 40 }, (_, i) => 'w '.repeat(1 + (i % 5)).trim());
    const eager = new SampledTokenEstimate(words, 3, 4);
    const lazy = new SampledTokenEstimate(words, 3, 4);
    let built = 0;
    for (const p of prompts) {
      const a = eager.add(p);
      const b = lazy.addLazy(p.length, () => {
        built += 1;
        return p;
      });
      expect(b).toBe(a);
    }
    expect(lazy.total()).toBe(eager.total());
    // The 3 of the warmup, then every 4th prompt: the 4th, 8th, …, 40th.
    expect(built).toBe(3 + 10);
  });
});
