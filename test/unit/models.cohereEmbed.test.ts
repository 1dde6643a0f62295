import { cohereEmbed } from '../../src/models/cohereEmbed';
import { ModelParamsError, ResponseShapeError } from '../../src/models/types';

describe('Cohere Embed adapter: request body', () => {
  // Fields per https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed.html
  it('sends one text with the input type and truncate', () => {
    expect(cohereEmbed.buildRequest('hello world', { inputType: 'search_query', truncate: 'END' })).toEqual({
      texts: ['hello world'],
      input_type: 'search_query',
      truncate: 'END',
    });
  });

  it('defaults input_type to search_document and leaves truncate to the model', () => {
    expect(cohereEmbed.buildRequest('hello', {})).toEqual({ texts: ['hello'], input_type: 'search_document' });
  });
});

describe('Cohere Embed adapter: parameters', () => {
  it.each(['search_document', 'search_query', 'classification', 'clustering'] as const)('accepts inputType %s', (inputType) => {
    expect(() => cohereEmbed.validateParams({ inputType, truncate: 'NONE' })).not.toThrow();
  });

  it('names parameters it does not take and rejects bad values', () => {
    expect(() => cohereEmbed.validateParams({ dimensions: 1024 })).toThrow(/cohere-embed models do not take dimensions; supported parameters: inputType, truncate/);
    expect(() => cohereEmbed.validateParams({ maxTokens: 10, temperature: 0 })).toThrow(/do not take maxTokens, temperature/);
    expect(() => cohereEmbed.validateParams({ inputType: 'image' as never })).toThrow(ModelParamsError);
    expect(() => cohereEmbed.validateParams({ inputType: 'query' as never })).toThrow(/inputType must be one of search_document, search_query, classification, clustering/);
    expect(() => cohereEmbed.validateParams({ truncate: 'end' as never })).toThrow(/truncate must be one of NONE, START, END/);
  });
});

describe('Cohere Embed adapter: responses', () => {
  // Response shapes of the page above, placeholders filled in: "embeddings_floats" (number[][]) and,
  // when embedding types are requested, "embeddings_by_type" ({float: number[][]}).
  it('reads embeddings[0] from an embeddings_floats response; no token counts', () => {
    const output = { embeddings: [[0.0123, -0.0456, 0.0789]], id: 'b5c5d3c8-1f7e-4f0a-9a52-3f0c0f1c2b6e', response_type: 'embeddings_floats', texts: ['hello world'] };
    const parsed = cohereEmbed.parseResponse(output);
    expect(parsed).toEqual({ embedding: [0.0123, -0.0456, 0.0789] });
    expect(parsed.inputTokens).toBeUndefined();
  });

  it('reads embeddings.float[0] from an embeddings_by_type response', () => {
    const output = {
      embeddings: { float: [[0.5, -0.25]], int8: [[64, -32]] },
      id: 'c0ffee00-0000-4000-8000-000000000000',
      response_type: 'embeddings_by_type',
      texts: ['hello'],
    };
    expect(cohereEmbed.parseResponse(output)).toEqual({ embedding: [0.5, -0.25] });
  });

  it.each([
    ['a Titan response', { embedding: [0.1], inputTextTokenCount: 2 }],
    ['no vectors', { embeddings: [] }],
    ['int8 only', { embeddings: { int8: [[1, 2]] }, response_type: 'embeddings_by_type' }],
    ['non-numeric vector', { embeddings: [['a', 'b']] }],
    ['empty vector', { embeddings: [[]] }],
  ])('throws ResponseShapeError on %s', (_name, output) => {
    expect(() => cohereEmbed.parseResponse(output)).toThrow(ResponseShapeError);
  });
});
