import { TemplateSyntaxError, compileTemplate, missingColumns, parseTemplate, templateKeys } from '../../src/core/template';

describe('prompt templates', () => {
  it('lists the distinct keys in order of first use', () => {
    expect(templateKeys('Q: {source}\nT: {task} / {source}')).toEqual(['source', 'task']);
  });

  it('treats doubled braces as literal braces', () => {
    expect(parseTemplate('{{"a": {x}}}')).toEqual([{ literal: '{"a": ' }, { key: 'x' }, { literal: '}' }]);
    expect(templateKeys('{{not a key}}')).toEqual([]);
  });

  it('rejects unbalanced braces with the offset', () => {
    expect(() => parseTemplate('a {b')).toThrow(/unclosed "\{" at offset 2/);
    expect(() => parseTemplate('a } b')).toThrow(TemplateSyntaxError);
    expect(() => parseTemplate('{}')).toThrow(/bad field/);
  });

  it('renders rows given as arrays in column order', () => {
    const render = compileTemplate('Tell me a joke about {topic} in {lang}.', ['lang', 'id', 'topic']);
    expect(render(['French', '7', 'cats'])).toBe('Tell me a joke about cats in French.');
    expect(render(['', '8', 'dogs'])).toBe('Tell me a joke about dogs in .');
  });

  it('names the columns a template needs but the data lacks', () => {
    expect(missingColumns(templateKeys('{source} {rationale} {topic}'), ['source', 'target'])).toEqual(['rationale', 'topic']);
    expect(() => compileTemplate('{topic}', ['subject'])).toThrow(/topic/);
  });
});
