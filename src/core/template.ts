/**
 * Prompt templates use Python `str.format` field syntax (`{column}`, `{{` and `}}` for literal
 * braces), the syntax of the reference implementation's templates, so existing prompts carry over.
 */
export type TemplatePart = { literal: string } | { key: string };

export class TemplateSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateSyntaxError';
  }
}

export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = '';
  let i = 0;
  while (i < template.length) {
    const ch = template[i];
    if (ch === '{') {
      if (template[i + 1] === '{') {
        literal += '{';
        i += 2;
        continue;
      }
      const close = template.indexOf('}', i + 1);
      if (close < 0) throw new TemplateSyntaxError(`unclosed "{" at offset ${i}`);
      const key = template.slice(i + 1, close).trim();
      if (!key || /[{}]/.test(key)) throw new TemplateSyntaxError(`bad field "{${key}}" at offset ${i}`);
      if (literal) parts.push({ literal });
      literal = '';
      parts.push({ key });
      i = close + 1;
    } else if (ch === '}') {
      if (template[i + 1] !== '}') throw new TemplateSyntaxError(`single "}" at offset ${i}; write "}}" for a literal brace`);
      literal += '}';
      i += 2;
    } else {
      literal += ch;
      i += 1;
    }
  }
  if (literal) parts.push({ literal });
  return parts;
}

/** The distinct column names a template refers to, in order of first use. */
export function templateKeys(template: string): string[] {
  const keys: string[] = [];
  for (const part of parseTemplate(template)) {
    if ('key' in part && !keys.includes(part.key)) keys.push(part.key);
  }
  return keys;
}

export function missingColumns(keys: readonly string[], columns: readonly string[]): string[] {
  const have = new Set(columns);
  return keys.filter((k) => !have.has(k));
}

/**
 * Compiles a template against a column order once, so rendering a row is a string join over
 * array indexes (rows arrive as arrays from the CSV reader).
 */
export function compileTemplate(template: string, columns: readonly string[]): (row: ReadonlyArray<unknown>) => string {
  const parts = parseTemplate(template);
  const missing = missingColumns(templateKeys(template), columns);
  if (missing.length) throw new TemplateSyntaxError(`template uses columns not in the data: ${missing.join(', ')}`);
  const index = new Map(columns.map((c, i) => [c, i]));
  const pieces: Array<string | number> = parts.map((p) => ('key' in p ? index.get(p.key)! : p.literal));
  return (row) => {
    let out = '';
    for (const piece of pieces) {
      if (typeof piece === 'string') out += piece;
      else {
        const v = row[piece];
        out += v === null || v === undefined ? '' : String(v);
      }
    }
    return out;
  };
}
