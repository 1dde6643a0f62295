/**
 * Deterministic text for the benchmark: a seeded PRNG, a pseudo-English corpus built from it, and
 * SimpleCoT look-alike rows cut from the corpus. No network, no randomness outside the seed.
 */

/** sfc32: small, fast, good enough for synthetic data; state from a string seed via xmur3. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: string) {
    let h = 1779033703 ^ seed.length;
    for (let i = 0; i < seed.length; i++) {
      h = Math.imul(h ^ seed.charCodeAt(i), 3432918353);
      h = (h << 13) | (h >>> 19);
    }
    const next = () => {
      h = Math.imul(h ^ (h >>> 16), 2246822507);
      h = Math.imul(h ^ (h >>> 13), 3266489909);
      h ^= h >>> 16;
      return h >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 16; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Log-normal with the given median and shape, clamped. */
  lognormal(median: number, sigma: number, min: number, max: number): number {
    return Math.max(min, Math.min(max, Math.round(median * Math.exp(sigma * this.normal()))));
  }
}

const FUNCTION_WORDS =
  'the of and to in is was for on that with by as at from his her it an were are which this be or has had not but they their one all would there what so up out if about who get which go me when make can like time no just him know take people into year your good some could them see other than then now look only come its over think also back after use two how our work first well way even new want because any these give day most us'.split(
    ' ',
  );
const SYLLABLES = 'ka ri to men sa lo ver ta in de pro con ex la tion ple ment ar or an el ti ca ne ro mi su pa be ly ous ing er ed al ic ate ist ure'.split(' ');
const ACCENTED = ['café', 'naïve', 'résumé', 'Zürich', 'São', 'Łódź', 'fiancée', 'über', '—', '“quoted”', '½', 'Ω'];

/** A pseudo-English corpus of ~`chars` characters: Zipf-ish words, punctuation, some quotes, commas, newlines, digits and non-ASCII. */
export function buildCorpus(rng: Prng, chars: number): string {
  const vocab: string[] = [];
  for (let i = 0; i < 12_000; i++) {
    const n = 1 + rng.int(4);
    let w = '';
    for (let s = 0; s < n; s++) w += rng.pick(SYLLABLES);
    vocab.push(w);
  }
  const parts: string[] = [];
  let length = 0;
  let capital = true;
  while (length < chars) {
    const r = rng.next();
    let word: string;
    if (r < 0.42) word = rng.pick(FUNCTION_WORDS);
    else if (r < 0.975) word = vocab[Math.floor(vocab.length * rng.next() ** 2.2)];
    else if (r < 0.995) word = String(rng.int(r < 0.985 ? 100 : 100_000));
    else word = rng.pick(ACCENTED);
    if (capital) word = word.charAt(0).toUpperCase() + word.slice(1);
    capital = false;
    const p = rng.next();
    if (p < 0.004) word = `"${word}"`;
    const q = rng.next();
    let sep = ' ';
    if (q < 0.06) sep = ', ';
    else if (q < 0.11) {
      sep = '. ';
      capital = true;
    } else if (q < 0.114) {
      sep = '.\n';
      capital = true;
    } else if (q < 0.116) sep = '; ';
    else if (q < 0.118) {
      sep = '? ';
      capital = true;
    }
    parts.push(word, sep);
    length += word.length + sep.length;
  }
  return parts.join('');
}

/** A run of corpus text of about `len` characters, starting and ending at word boundaries. */
export function cut(corpus: string, rng: Prng, len: number): string {
  const limit = corpus.length - len - 64;
  let start = rng.int(limit);
  const sp = corpus.indexOf(' ', start);
  start = sp < 0 ? 0 : sp + 1;
  let end = corpus.indexOf(' ', start + len);
  if (end < 0 || end - start > len + 40) end = start + len;
  return corpus.slice(start, end);
}

export const SIMPLECOT_COLUMNS = ['source', 'target', 'rationale', 'task', 'type'] as const;

const OPTION_SETS = [
  ['yes', 'no', 'it is not possible to tell'],
  ['yes', 'no'],
  ['(A)', '(B)', '(C)', '(D)', '(E)'],
  ['positive', 'negative'],
  ['entailment', 'neutral', 'contradiction'],
];
const TASK_PREFIXES = ['cot', 'super_glue', 'glue', 'anli', 'qasc', 'gsm8k', 'esnli', 'creak', 'strategyqa', 'sensemaking', 'ecqa', 'aqua', 'quoref', 'ropes', 'wiki_qa', 'race', 'cosmos_qa', 'social_i_qa', 'dream', 'quail'];

/** SimpleCoT look-alike rows: long `source`/`rationale`, short `target`/`task`/`type`; ~1.45 KB of text a row. */
export class SimpleCotRows {
  readonly corpus: string;
  private readonly rng: Prng;
  private readonly tasks: string[];

  constructor(seed = 'simplecot-bench-v1') {
    this.rng = new Prng(seed);
    this.corpus = buildCorpus(this.rng, 48 * 1024 * 1024);
    this.tasks = Array.from({ length: 1060 }, (_, i) => {
      const words = cut(this.corpus, this.rng, 8 + this.rng.int(14))
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '_')
        .replace(/^_+|_+$/g, '');
      return `${TASK_PREFIXES[i % TASK_PREFIXES.length]}_${words || 'task'}`;
    });
  }

  /** [source, target, rationale, task, type] */
  next(): [string, string, string, string, string] {
    const rng = this.rng;
    const corpus = this.corpus;
    const task = rng.pick(this.tasks);
    const kind = rng.int(4);
    const body = cut(corpus, rng, rng.lognormal(515, 0.9, 20, 24_000));
    let source: string;
    let options: string[] | undefined;
    if (kind === 0) {
      options = rng.pick(OPTION_SETS);
      source = `Premise: "${body}"\nHypothesis: "${cut(corpus, rng, rng.lognormal(70, 0.5, 10, 400))}"\nIs the hypothesis entailed by the premise?\nOptions:\n${options.map((o) => `- ${o}`).join('\n')}`;
    } else if (kind === 1) {
      options = rng.pick(OPTION_SETS);
      source = `Q: ${body}?\nOptions:\n${options.map((o) => `- ${o}`).join('\n')}\nA:`;
    } else if (kind === 2) {
      source = `Answer the following question. ${body}?`;
    } else {
      source = `${body}\n\nQuestion: ${cut(corpus, rng, rng.lognormal(60, 0.5, 10, 400))}?`;
    }
    const target = options && rng.next() < 0.8 ? rng.pick(options) : cut(corpus, rng, rng.lognormal(18, 1.0, 1, 600));
    const rationale = cut(corpus, rng, rng.lognormal(400, 0.75, 20, 8_000));
    const type = rng.next() < 0.7 ? 'CoT' : 'Direct';
    return [source, target, rationale, task, type];
  }
}

/** Minimal CSV quoting (as pandas/csv writers do): only fields with a quote, comma or line break. */
export function csvField(value: string): string {
  if (!/[",\r\n]/.test(value)) return value;
  return `"${value.replace(/"/g, '""')}"`;
}
