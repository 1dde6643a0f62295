import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APPROX_MARGIN, RECORD_TOO_LARGE, checkInputLimit, fileLimitRejection, limitNeedsPrompt, mayExceedTokens } from '../../src/core/inputLimit';
import { loadBatchCatalog } from '../../src/models/batchCatalog';
import { approxTokenCount, tokenCounterFor } from '../../src/tokens';

const TITAN = 'amazon.titan-embed-text-v2:0';
const limit = { modelId: TITAN, maxTokens: 8192, maxChars: 50_000 };
const never = { kind: 'never', exact: true, count: (): number => { throw new Error('counted a record that fits by its bytes'); } };
const exact = (n: number) => ({ kind: 'fixed', exact: true, count: () => n });
const approx = (n: number) => ({ kind: 'approx-chars', exact: false, count: () => n });

test('a line of at most maxTokens bytes is decided without counting', () => {
  expect(checkInputLimit('short prompt', 8000, limit, never)).toBeUndefined();
  expect(checkInputLimit('x'.repeat(8000), 8100, limit, never)).toBeUndefined();
  expect(mayExceedTokens(8100, 8192)).toBe(false);
  expect(mayExceedTokens(8192, 8192)).toBe(true);
});

test('an exact count over the limit is refused, naming tokens, the counter, the limit and the model', () => {
  expect(checkInputLimit('p', 9000, limit, exact(8192))).toBeUndefined();
  const r = checkInputLimit('p', 9000, limit, exact(8193));
  expect(r).toEqual({ code: RECORD_TOO_LARGE, message: `prompt is ~8,193 tokens (counted with fixed), over the 8,192-token input limit of ${TITAN}` });
  // The system prompt's tokens count too.
  expect(checkInputLimit('p', 9000, limit, exact(8000), 193)?.code).toBe(RECORD_TOO_LARGE);
});

test('an approximate count is refused only past the approximation margin', () => {
  const edge = Math.floor(8192 * (1 + APPROX_MARGIN));
  expect(checkInputLimit('p', 99_999, limit, approx(edge))).toBeUndefined();
  expect(checkInputLimit('p', 99_999, limit, approx(edge + 1))?.message).toBe(
    `prompt is ~${(edge + 1).toLocaleString('en-US')} tokens (estimated with approx-chars), over the 8,192-token input limit of ${TITAN}`,
  );
});

test('the character limit counts characters, not UTF-16 units', () => {
  const small = { modelId: 'm', maxChars: 4 };
  expect(checkInputLimit('😀😀😀😀', 20, small, never)).toBeUndefined();
  expect(checkInputLimit('😀😀😀😀😀', 20, small, never)).toEqual({ code: RECORD_TOO_LARGE, message: 'prompt is 5 characters, over the 4-character input limit of m' });
});

test('the file-size rejection names the record size and the 1 GB limit', () => {
  expect(fileLimitRejection(1_500_000_000, 1_000_000_000)).toEqual({
    code: RECORD_TOO_LARGE,
    message: 'record is 1,500,000,000 bytes, over the 1 GB limit of a Bedrock input file',
  });
});

test('no counter spends more tokens than mayExceedTokens allows for the bytes (the bound that spares counting short records)', () => {
  const sample = readFileSync(join(__dirname, '../fixtures/token-sample.txt'), 'utf8');
  const texts = [...sample.split('\n\n'), '1'.repeat(5000), ' '.repeat(3000), '\n\t'.repeat(2000), '😀'.repeat(1000), '中文'.repeat(1000), '{"a":[1,2]}'.repeat(300), 'é'.repeat(4000)];
  const models = [TITAN, 'anthropic.claude-3-haiku-20240307-v1:0', 'meta.llama3-8b-instruct-v1:0', 'mistral.mistral-7b-instruct-v0:2', 'mistral.mistral-large-2407-v1:0'];
  const over: string[] = [];
  for (const text of texts) {
    const bytes = Buffer.byteLength(text);
    if (approxTokenCount(text) > bytes) over.push(`approx: ${text.slice(0, 20)}`);
    for (const id of models) {
      const tokens = tokenCounterFor(id).count(text);
      // mayExceedTokens(bytes, tokens - 1) says whether `tokens` could come from `bytes`: it must.
      if (tokens > 1 && !mayExceedTokens(bytes, tokens - 1)) over.push(`${id}: ${tokens} tokens from ${bytes} bytes`);
    }
  }
  expect(over).toEqual([]);
});

test("the catalog's limits: Titan V2 by any id form, Cohere unless truncate cuts, none where AWS gives none", () => {
  const catalog = loadBatchCatalog();
  expect(catalog.inputLimit(`us.${TITAN}`)).toMatchObject({ maxTokens: 8192, maxChars: 50_000 });
  expect(catalog.inputLimit(`arn:aws:bedrock:us-east-1::foundation-model/${TITAN}`)).toMatchObject({ maxTokens: 8192 });
  expect(catalog.inputLimit('cohere.embed-english-v3')).toMatchObject({ maxTokens: 512, maxChars: 2048 });
  expect(catalog.inputLimit('cohere.embed-english-v3', 'NONE')).toMatchObject({ maxTokens: 512 });
  expect(catalog.inputLimit('cohere.embed-english-v3', 'END')).toBeUndefined();
  expect(catalog.inputLimit('anthropic.claude-3-haiku-20240307-v1:0')).toBeUndefined();
  for (const m of catalog.data.models) {
    if (m.inputLimit) expect(catalog.data.sources[m.inputLimit.source]).toBeDefined();
  }
});

describe('limitNeedsPrompt', () => {
  const counter = { kind: 'words', exact: true, count: (t: string) => t.split(' ').length };
  it('is false exactly where checkInputLimit accepts without looking at the prompt', () => {
    for (const limit of [{ modelId: 'm', maxChars: 10 }, { modelId: 'm', maxTokens: 20 }, { modelId: 'm' }]) {
      for (const prompt of ['short', 'a much longer prompt than ten characters', 'x '.repeat(30)]) {
        for (const lineBytes of [10, 100]) {
          if (!limitNeedsPrompt(prompt.length, lineBytes, limit)) expect(checkInputLimit(prompt, lineBytes, limit, counter)).toBeUndefined();
        }
      }
    }
    expect(limitNeedsPrompt(11, 10, { modelId: 'm', maxChars: 10 })).toBe(true);
    expect(limitNeedsPrompt(5, 100, { modelId: 'm', maxTokens: 20 })).toBe(true);
    expect(limitNeedsPrompt(5, 10, { modelId: 'm', maxTokens: 20 })).toBe(false);
  });
});
