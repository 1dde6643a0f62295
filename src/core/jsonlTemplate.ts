/**
 * A record's JSONL line built from pre-escaped pieces: `{"recordId":"…","modelInput":{…"text":"` +
 * the row's values, each JSON-escaped once, between the template's literals (escaped once, at compile
 * time) + `"…}}\n`. Byte for byte what `JSON.stringify({recordId, modelInput: buildRequest(prompt)})`
 * gives, without building the prompt string and then walking the whole request object for every row
 * (JSON.stringify of the object was the largest single cost of preprocessing: ~12 µs a 2.6 KB line).
 *
 * Why it is exact: JSON.stringify escapes a string one code unit at a time (`"`, `\`, controls, lone
 * surrogates), so escaping pieces and joining them gives the escape of the joined string, except where
 * a surrogate pair would be split between two pieces: such rows (a value starting with a low surrogate
 * or ending with a high one) return undefined and take the old path; a template or request text that
 * could form a pair with a value disables the fast path altogether. The request's shape around the
 * prompt is learnt from the adapter with a marker prompt and checked with probe prompts, so an adapter
 * that transforms its prompt (trims it, measures it, puts it in twice) never gets the fast path.
 */
import type { TemplatePart } from './template';

/** Renders a row's JSONL line (with its `\n`) and tells the prompt's length without building it. */
export interface JsonlTemplate {
  /** The line, or undefined when this row must take the JSON.stringify path (a surrogate at a value's edge). */
  line(recordId: string, row: ReadonlyArray<unknown>): string | undefined;
  /** Length in UTF-16 units of the row's rendered prompt (the values as the template renders them). */
  promptLength(row: ReadonlyArray<unknown>): number;
}

/** What rendering does with a value: null and undefined render as nothing, the rest as String(v). */
export function valueText(v: unknown): string {
  return v === null || v === undefined ? '' : String(v);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what JSON escapes.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** The JSON string escape of `s`, without its quotes (JSON.stringify's own, only when needed). */
export function escapeJsonText(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s).slice(1, -1) : s;
}

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** True when `s` could pair with a neighbour's surrogate: it starts with a low surrogate or ends with a high one. */
export function hasEdgeSurrogate(s: string): boolean {
  return s.length > 0 && (isLow(s.charCodeAt(0)) || isHigh(s.charCodeAt(s.length - 1)));
}

// Letters only: their JSON escape is themselves, and no template, request or record id contains them.
const PROMPT_MARK = 'qJsonlPromptMarkq';
const ID_MARK = 'qJsonlRecordIdMarkq';
const PROBES = ['', ' a "quoted" \\ back\nslash\t\u0001 é 字 😀 {x} ', '\ud83d', '\ude00x', 'x'.repeat(300)];

/** The old path's line, which the fast one must equal. */
export function stringifiedLine(recordId: string, modelInput: unknown): string {
  return `${JSON.stringify({ recordId, modelInput })}\n`;
}

/**
 * Compiles `parts` (a parsed template, or one `{key}` for an embedding column) against column
 * `indexes` and the adapter's request builder, or returns undefined when the request's text does not
 * hold the prompt exactly once, verbatim.
 */
export function compileJsonlTemplate(
  parts: ReadonlyArray<TemplatePart>,
  indexOf: (key: string) => number,
  buildRequest: (prompt: string) => unknown,
): JsonlTemplate | undefined {
  const shape = stringifiedLine(ID_MARK, buildRequest(PROMPT_MARK));
  const [beforeId, afterId, ...restId] = shape.split(ID_MARK);
  if (afterId === undefined || restId.length) return undefined;
  const [head, tail, ...rest] = afterId.split(PROMPT_MARK);
  if (tail === undefined || rest.length) return undefined;
  // Request text right next to the prompt that could pair with a value's surrogate.
  if (head.length && isHigh(head.charCodeAt(head.length - 1))) return undefined;
  if (tail.length && isLow(tail.charCodeAt(0))) return undefined;
  for (const probe of PROBES) {
    if (stringifiedLine(ID_MARK, buildRequest(probe)) !== beforeId + ID_MARK + head + escapeJsonText(probe) + tail) return undefined;
  }

  // Literals merged into their neighbours: pieces alternate literal, value index, literal, …, literal.
  const literals: string[] = [''];
  const indexes: number[] = [];
  let literalLength = 0;
  for (const part of parts) {
    if ('key' in part) {
      indexes.push(indexOf(part.key));
      literals.push('');
    } else {
      if (hasEdgeSurrogate(part.literal)) return undefined;
      literals[literals.length - 1] += part.literal;
      literalLength += part.literal.length;
    }
  }
  const escaped = literals.map(escapeJsonText);
  escaped[0] = head + escaped[0];
  escaped[escaped.length - 1] += tail;
  const start = beforeId;

  return {
    line(recordId, row) {
      let out = start + recordId + escaped[0];
      for (let i = 0; i < indexes.length; i++) {
        const text = valueText(row[indexes[i]]);
        if (hasEdgeSurrogate(text)) return undefined;
        out += escapeJsonText(text) + escaped[i + 1];
      }
      return out;
    },
    promptLength(row) {
      let n = literalLength;
      for (let i = 0; i < indexes.length; i++) n += valueText(row[indexes[i]]).length;
      return n;
    },
  };
}
