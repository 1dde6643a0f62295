import { compileJsonlTemplate, escapeJsonText, hasEdgeSurrogate, stringifiedLine, valueText } from '../../src/core/jsonlTemplate';
import { compileTemplate, parseTemplate } from '../../src/core/template';
import { resolveModelAdapter } from '../../src/models/registry';
import type { ModelParams } from '../../src/models/types';

const COLUMNS = ['a', 'b', 'c'];
const indexOf = (key: string) => COLUMNS.indexOf(key);

const TRICKY = [
  '',
  'plain',
  'say "hi"',
  'back\\slash \\n not a newline',
  'line\nbreak\r\ntab\t',
  '\u0000\u0001\u001f\u007f\u2028\u2029',
  'é 字 Привет 😀',
  'lone high \ud83d in the middle',
  'lone low \ude00 in the middle',
  '\ude00 starts low',
  'ends high \ud83d',
  '{a} {{b}} }{ ',
  '<thinking>x</thinking>',
  'x'.repeat(5000),
];

/** The old path: render the prompt, build the request, stringify the record. */
function oldLine(template: string, modelId: string, params: ModelParams, recordId: string, row: unknown[]): string {
  const adapter = resolveModelAdapter(modelId, 'InvokeModel');
  return stringifiedLine(recordId, adapter.buildRequest(compileTemplate(template, COLUMNS)(row), params));
}

function fastOf(template: string, modelId: string, params: ModelParams, invocation: 'InvokeModel' | 'Converse' = 'InvokeModel') {
  const adapter = resolveModelAdapter(modelId, invocation);
  return compileJsonlTemplate(parseTemplate(template), indexOf, (p) => adapter.buildRequest(p, params));
}

describe('escapeJsonText', () => {
  it.each(TRICKY.map((s) => [s]))('is JSON.stringify without the quotes (case %#)', (s) => {
    expect(escapeJsonText(s)).toBe(JSON.stringify(s).slice(1, -1));
  });

  it('is JSON.stringify without the quotes for every UTF-16 code unit, alone and beside each kind of surrogate', () => {
    const neighbours = ['', 'a', '"', '\ud83d', '\ude00', '\ud83d\ude00'];
    const wrong: string[] = [];
    for (let unit = 0; unit <= 0xffff; unit++) {
      const c = String.fromCharCode(unit);
      for (const before of neighbours) {
        for (const after of neighbours) {
          const s = before + c + after;
          if (escapeJsonText(s) !== JSON.stringify(s).slice(1, -1)) wrong.push(s);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('hasEdgeSurrogate', () => {
  it('flags a value that could pair with a neighbour', () => {
    expect(hasEdgeSurrogate('\ude00x')).toBe(true);
    expect(hasEdgeSurrogate('x\ud83d')).toBe(true);
    expect(hasEdgeSurrogate('😀')).toBe(false);
    expect(hasEdgeSurrogate('')).toBe(false);
  });
});

describe('compileJsonlTemplate', () => {
  const templates = ['Q: {a}\nA "{b}" \\ {c}', '{a}{b}{c}', '{a}', 'no fields at all: {{literal}} é', '😀{a}😀 {{ {b} }}\t'];
  const models: Array<[string, ModelParams]> = [
    ['anthropic.claude-3-haiku-20240307-v1:0', {}],
    ['anthropic.claude-3-haiku-20240307-v1:0', { system: 'be "brief"\n', maxTokens: 100, temperature: 0.5, stopSequences: ['\n\n'] }],
    ['meta.llama3-1-8b-instruct-v1:0', { system: 'sys é' }],
    ['mistral.mistral-7b-instruct-v0:2', {}],
    ['amazon.nova-lite-v1:0', { maxTokens: 10 }],
  ];

  it.each(models)('gives the old line for every tricky value (%s)', (modelId, params) => {
    for (const template of templates) {
      const fast = fastOf(template, modelId, params)!;
      expect(fast).toBeDefined();
      for (let i = 0; i < TRICKY.length; i++) {
        const row = [TRICKY[i], TRICKY[(i + 5) % TRICKY.length], TRICKY[(i + 9) % TRICKY.length]];
        const expected = oldLine(template, modelId, params, '00000000042', row);
        const got = fast.line('00000000042', row);
        if (got === undefined) expect(row.some((v) => hasEdgeSurrogate(v))).toBe(true);
        else expect(got).toBe(expected);
        expect(fast.promptLength(row)).toBe(compileTemplate(template, COLUMNS)(row).length);
      }
    }
  });

  it('declines only rows whose values could complete a surrogate pair, which the old path joins', () => {
    const fast = fastOf('{a}{b}', 'anthropic.claude-3-haiku-20240307-v1:0', {})!;
    expect(fast.line('00000000000', ['x\ud83d', '\ude00y'])).toBeUndefined();
    expect(fast.line('00000000000', ['\ud83d\ude00', 'y'])).toBe(oldLine('{a}{b}', 'anthropic.claude-3-haiku-20240307-v1:0', {}, '00000000000', ['\ud83d\ude00', 'y']));
  });

  it('renders null, undefined and non-strings as the template does', () => {
    const fast = fastOf('{a}|{b}|{c}', 'anthropic.claude-3-haiku-20240307-v1:0', {})!;
    const row = [null, 12.5, 7n];
    expect(fast.line('00000000001', row)).toBe(oldLine('{a}|{b}|{c}', 'anthropic.claude-3-haiku-20240307-v1:0', {}, '00000000001', row));
    expect(valueText(undefined)).toBe('');
  });

  it('works for Converse bodies and embedding adapters (one column, no template)', () => {
    const converse = fastOf('x {a}', 'anthropic.claude-3-haiku-20240307-v1:0', { maxTokens: 5 }, 'Converse')!;
    const adapter = resolveModelAdapter('anthropic.claude-3-haiku-20240307-v1:0', 'Converse');
    expect(converse.line('00000000003', ['"q"\n'])).toBe(stringifiedLine('00000000003', adapter.buildRequest('x "q"\n', { maxTokens: 5 })));
    for (const modelId of ['amazon.titan-embed-text-v2:0', 'cohere.embed-english-v3']) {
      const embed = resolveModelAdapter(modelId, 'InvokeModel');
      const fast = compileJsonlTemplate([{ key: 'b' }], indexOf, (p) => embed.buildRequest(p, {}))!;
      expect(fast.line('00000000004', ['', 'é "t"\u0001', ''])).toBe(stringifiedLine('00000000004', embed.buildRequest('é "t"\u0001', {})));
    }
  });

  it('refuses adapters that do not hold the prompt verbatim and once, and templates with edge surrogates', () => {
    expect(compileJsonlTemplate([{ key: 'a' }], indexOf, (p) => ({ text: p.trim() }))).toBeUndefined();
    expect(compileJsonlTemplate([{ key: 'a' }], indexOf, (p) => ({ text: p, again: p }))).toBeUndefined();
    expect(compileJsonlTemplate([{ key: 'a' }], indexOf, (p) => ({ text: p, length: p.length }))).toBeUndefined();
    expect(compileJsonlTemplate([{ key: 'a' }], indexOf, () => ({ text: 'constant' }))).toBeUndefined();
    expect(compileJsonlTemplate([{ literal: '\ude00' }, { key: 'a' }], indexOf, (p) => ({ text: p }))).toBeUndefined();
  });
});
