/**
 * Keeps tokenizers to inputs they can take. BPE time grows with the square of one pre-tokenized piece's
 * length (measured with tiktoken: a 100k-letter piece ~10 s), and tiktoken's WASM traps with `unreachable`
 * on a piece of about a megabyte: one cell of base64, DNA or any long text without spaces used to fail a
 * run's estimate and preprocessing. So text is cut inside long runs of one character class (a piece never
 * spans two classes), each part counted on its own, and a tokenizer that still fails on a part (a WASM trap,
 * a stack overflow) gives way to the approximation for that part.
 */
import { approxTokenCount } from './approx';

/**
 * Longest run of one character class counted in one piece. Text without such runs (all ordinary text) is
 * counted whole, exactly as before; a longer run is counted in pieces of this size, which costs about a
 * token per cut (+0.1%) and keeps a 1 MB run to well under a second.
 */
export const MAX_RUN = 1000;

/**
 * Runs that one pre-tokenizer piece can lie in, in the Claude, Llama 3 and Tekken patterns: letters
 * (with marks, as Tekken's letters take them), digits, other symbols (marks too, as ` ?[^\s\p{L}\p{N}]+`
 * takes them), whitespace.
 */
const LONG_RUN = new RegExp(`[\\p{L}\\p{M}]{${MAX_RUN},}|\\p{N}{${MAX_RUN},}|[^\\s\\p{L}\\p{N}]{${MAX_RUN},}|\\s{${MAX_RUN},}`, 'gu');

/** Sums `count` over pieces of `text` in which no run of one character class is longer than MAX_RUN. */
export function countInBoundedRuns(text: string, count: (piece: string) => number): number {
  LONG_RUN.lastIndex = 0;
  let run = LONG_RUN.exec(text);
  if (!run) return count(text);
  let tokens = 0;
  let from = 0;
  for (; run; run = LONG_RUN.exec(text)) {
    const end = run.index + run[0].length;
    for (let cut = run.index + MAX_RUN; cut < end; cut += MAX_RUN) {
      const at = characterBoundary(text, cut);
      tokens += count(text.slice(from, at));
      from = at;
    }
  }
  return tokens + count(text.slice(from));
}

/**
 * Sums `count` over slices of MAX_RUN characters of `text`: for a tokenizer whose pieces are not bounded
 * by character class (SentencePiece BPE works on whole space-separated words).
 */
export function countInSlices(text: string, count: (slice: string) => number): number {
  if (text.length <= MAX_RUN) return count(text);
  let tokens = 0;
  for (let from = 0; from < text.length; ) {
    const to = characterBoundary(text, from + MAX_RUN);
    tokens += count(text.slice(from, to));
    from = to;
  }
  return tokens;
}

/** `at`, or one further when `at` would fall between the two halves of a surrogate pair. */
function characterBoundary(text: string, at: number): number {
  const c = text.charCodeAt(at);
  return c >= 0xdc00 && c <= 0xdfff ? at + 1 : at;
}

/**
 * `count`, falling back to the approximation when the tokenizer fails on its input (a WASM trap, a
 * stack or array overflow) instead of failing the run; `reset` drops the tokenizer, which a trap may
 * leave unusable, so the next call loads a fresh one. Other errors (a tokenizer that cannot load) pass.
 */
export function withApproxFallback(count: (text: string) => number, reset: () => void = () => undefined): (text: string) => number {
  return (text) => {
    try {
      return count(text);
    } catch (err) {
      // By name: WASM errors may come from another realm (a worker thread's, a test sandbox's).
      const name = (err as { name?: unknown } | null)?.name;
      if (name !== 'RuntimeError' && name !== 'RangeError') throw err;
      reset();
      return approxTokenCount(text);
    }
  };
}

/** A tokenizer's count that no input length can crash: bounded runs, approximation where it still fails. */
export function robustCount(count: (text: string) => number, reset?: () => void): (text: string) => number {
  const guarded = withApproxFallback(count, reset);
  return (text) => countInBoundedRuns(text, guarded);
}
