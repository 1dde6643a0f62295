import { lineFields, stringEnd, valueEnd } from '../../src/core/lineFields';
import { outputLineParser, parseLineOutputOnly, parseOutputLine } from '../../src/core/outputLine';
import { anthropicClaude } from '../../src/models/anthropic';
import { metaLlama } from '../../src/models/llama';
import { amazonNova } from '../../src/models/nova';
import type { ModelAdapter } from '../../src/models/types';

const b = (s: string) => Buffer.from(s, 'utf8');

describe('lineFields', () => {
  it('finds string ends past escaped quotes and backslashes', () => {
    expect(stringEnd(b('"ab"x'), 0)).toBe(4);
    expect(stringEnd(b('"a\\"b"x'), 0)).toBe(6);
    expect(stringEnd(b('"a\\\\"x'), 0)).toBe(5);
    expect(stringEnd(b('"a\\\\\\"b"'), 0)).toBe(8);
    expect(stringEnd(b('"open'), 0)).toBe(-1);
  });

  it('finds value ends through nested brackets and brackets inside strings', () => {
    const s = '{"a":[1,{"b":"]}"}],"c":"{"} ,';
    expect(valueEnd(b(s), 0)).toBe(s.indexOf(' ,'));
    expect(valueEnd(b('123,'), 0)).toBe(3);
    expect(valueEnd(b('[1,2}'), 0)).toBe(-1);
    expect(valueEnd(b('{"a":1'), 0)).toBe(-1);
  });

  it('returns recordId and the spans asked for', () => {
    const line = b('{ "recordId" : "r1", "modelInput":{"x":"}"}, "modelOutput" : {"k":[1]} }');
    const f = lineFields(line, ['modelOutput']);
    expect(f?.recordId).toBe('r1');
    const [s, e] = f!.spans.get('modelOutput')!;
    expect(line.toString('utf8', s, e)).toBe('{"k":[1]}');
    expect(f!.spans.has('modelInput')).toBe(false);
  });

  it.each([
    ['repeated key', '{"recordId":"a","modelOutput":{},"modelOutput":{}}'],
    ['escaped key', '{"recordId":"a","model\\u004futput":{}}'],
    ['escaped recordId', '{"recordId":"a\\"b","modelOutput":{}}'],
    ['numeric recordId', '{"recordId":7,"modelOutput":{}}'],
    ['no recordId', '{"modelOutput":{}}'],
    ['trailing bytes', '{"recordId":"a","modelOutput":{}} x'],
    ['not an object', '["recordId","a"]'],
    ['unclosed', '{"recordId":"a","modelOutput":{"x":1}'],
    ['missing colon', '{"recordId" "a"}'],
  ])('declines a line with %s', (_name, line) => {
    expect(lineFields(b(line), ['modelOutput'])).toBeUndefined();
  });
});

describe('parseLineOutputOnly', () => {
  const claude = (recordId: string, text: string, prompt = 'Q: "why"?\n{[(') =>
    JSON.stringify({
      recordId,
      modelInput: { anthropic_version: 'bedrock-2023-05-31', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'text', text: prompt }] }] },
      modelOutput: { id: 'm', content: [{ type: 'text', text }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 5, output_tokens: 7 } },
    });

  const lines: Array<[string, ModelAdapter, string]> = [
    ['Claude answer', anthropicClaude, claude('00000000001', 'hi')],
    ['escapes and non-ASCII in the answer', anthropicClaude, claude('00000000002', 'a "quote" \\ back\nslash, café ✓ 😀 \u2028')],
    ['prompt ending in a backslash', anthropicClaude, claude('00000000003', 'x', 'ends with \\')],
    ['non-ASCII recordId', anthropicClaude, claude('ré-1', 'x')],
    ['modelOutput first, spaces', anthropicClaude, '{ "modelOutput" : {"content":[{"type":"text","text":"ok"}]} , "recordId" : "r" , "modelInput" : {} }'],
    ['unexpected body', anthropicClaude, '{"recordId":"u","modelInput":{},"modelOutput":{"nope":true}}'],
    ['Llama', metaLlama, '{"recordId":"l","modelInput":{"prompt":"p"},"modelOutput":{"generation":"g","prompt_token_count":3,"generation_token_count":4,"stop_reason":"stop"}}'],
    ['Nova', amazonNova, '{"recordId":"n","modelInput":{},"modelOutput":{"output":{"message":{"content":[{"text":"t"}]}},"stopReason":"end_turn","usage":{"inputTokens":1,"outputTokens":2}}}'],
    ['extra top-level key', anthropicClaude, `${claude('00000000004', 'x').slice(0, -1)},"extra":[1,{"a":"]"}]}`],
  ];

  it.each(lines)('%s: same record as parseOutputLine', (_name, adapter, line) => {
    const fast = parseLineOutputOnly(b(line), adapter);
    expect(fast).toBeDefined();
    expect(fast).toEqual(parseOutputLine(line, adapter));
  });

  const declined: Array<[string, string]> = [
    ['error record', '{"recordId":"e","modelInput":{},"error":{"errorCode":400,"errorMessage":"bad"}}'],
    ['null error', '{"recordId":"e","modelInput":{},"modelOutput":{},"error":null}'],
    ['no modelOutput', '{"recordId":"e","modelInput":{}}'],
    ['modelOutput not JSON', '{"recordId":"e","modelInput":{},"modelOutput":{"a":tru}}'],
  ];

  it.each(declined)('declines %s, and the parser still equals parseOutputLine', (_name, line) => {
    expect(parseLineOutputOnly(b(line), anthropicClaude)).toBeUndefined();
    let full: unknown;
    try {
      full = parseOutputLine(line, anthropicClaude);
    } catch (err) {
      full = err;
    }
    if (full instanceof Error) expect(() => outputLineParser(anthropicClaude)(b(line))).toThrow(full.message);
    else expect(outputLineParser(anthropicClaude)(b(line))).toEqual(full);
  });

  it('the parser uses it for text families and skips blank lines', () => {
    const line = claude('00000000009', 'z');
    expect(outputLineParser(anthropicClaude)(b(line))).toEqual(parseOutputLine(line, anthropicClaude));
    expect(outputLineParser(anthropicClaude)(b('  '))).toBeUndefined();
  });
});
