/**
 * Token counting per family: how far the character approximation lands from the public
 * tokenizers on test/fixtures/token-sample.txt, and rows/s of each counter over 10,000 prompts.
 * The unit test (test/unit/tokens.test.ts) asserts the error bounds; speed is measured only here.
 *
 *   npx tsx bench/micro-tokens.ts
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { approxTokenCount, tokenCounterFor } from '../src/tokens';

const SAMPLE = readFileSync(join(__dirname, '..', 'test', 'fixtures', 'token-sample.txt'), 'utf8');
const SEGMENTS = SAMPLE.split(/\n=====\n/)
  .map((s) => s.trim())
  .filter(Boolean);
const OTHER_SCRIPT = /[\u0370-\u03ff\u0400-\u04ff\u0600-\u06ff\u0900-\u097f\u3040-\u30ff\u4e00-\u9fff]/;
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

const REFERENCES: [string, string][] = [
  ['Llama 3', 'meta.llama3-8b-instruct-v1:0'],
  ['Claude 2', 'anthropic.claude-v2:1'],
  ['Mistral v1', 'mistral.mistral-7b-instruct-v0:2'],
  ['Mistral Tekken', 'mistral.pixtral-large-2502-v1:0'],
];

console.log(`approximation error over ${SEGMENTS.length} prompts, ${SAMPLE.length} chars:`);
for (const [name, id] of REFERENCES) {
  const ref = tokenCounterFor(id);
  let real = 0;
  let approx = 0;
  let quarter = 0;
  const latin = { min: 0, max: 0 };
  const other = { min: 0, max: 0 };
  for (const s of SEGMENTS) {
    const r = ref.count(s);
    const a = approxTokenCount(s);
    real += r;
    approx += a;
    quarter += Math.ceil(s.length / 4);
    const bucket = OTHER_SCRIPT.test(s) ? other : latin;
    bucket.min = Math.min(bucket.min, (a - r) / r);
    bucket.max = Math.max(bucket.max, (a - r) / r);
  }
  console.log(
    `  ${name.padEnd(15)} real ${real}, approx ${approx} (${pct((approx - real) / real)}; chars/4 ${pct((quarter - real) / real)}); ` +
      `per prompt: Latin ${pct(latin.min)}..${pct(latin.max)}, other scripts ${pct(other.min)}..${pct(other.max)}`,
  );
}

// ~475 characters each: a fixture prompt plus part of another, numbered so no two are equal.
const prompts = Array.from(
  { length: 10_000 },
  (_, i) => `Row ${i}: ${SEGMENTS[i % SEGMENTS.length]}\n\nContext: ${SEGMENTS[(i * 7 + 3) % SEGMENTS.length].slice(0, 200)}`,
);
const chars = prompts.reduce((n, p) => n + p.length, 0);
console.log(`token counting, ${prompts.length} prompts averaging ${Math.round(chars / prompts.length)} chars:`);
for (const [name, id] of [
  ['approx-chars', 'amazon.nova-lite-v1:0'],
  ['claude', 'anthropic.claude-3-haiku-20240307-v1:0'],
  ['llama3', 'meta.llama3-8b-instruct-v1:0'],
  ['mistral v1 (SentencePiece)', 'mistral.mistral-7b-instruct-v0:2'],
  ['mistral tekken', 'mistral.pixtral-large-2502-v1:0'],
]) {
  const counter = tokenCounterFor(id);
  let t0 = performance.now();
  counter.count('warm-up: loads the tokenizer');
  const loadMs = performance.now() - t0;
  t0 = performance.now();
  let tokens = 0;
  for (const p of prompts) tokens += counter.count(p);
  const ms = performance.now() - t0;
  console.log(
    `  ${name.padEnd(27)} ${Math.round((prompts.length / ms) * 1000)} rows/s, ${(((chars / ms) * 1000) / 1e6).toFixed(2)}M chars/s, ${tokens} tokens, first load ${Math.round(loadMs)} ms`,
  );
}
