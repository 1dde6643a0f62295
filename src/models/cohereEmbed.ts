// Request/response shapes: https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed.html
import type { EmbedLineShape } from '../core/embedLine';
import { checkOneOf } from './checks';
import { CohereInputType, CohereTruncate, ModelAdapter, ModelParams, ParsedResponse, ResponseShapeError, isObject, rejectUnsupportedParams } from './types';

export const COHERE_INPUT_TYPES: ReadonlyArray<CohereInputType> = ['search_document', 'search_query', 'classification', 'clustering'];
export const COHERE_TRUNCATE: ReadonlyArray<CohereTruncate> = ['NONE', 'START', 'END'];

function isVector(x: unknown): x is number[] {
  return Array.isArray(x) && x.every((v) => typeof v === 'number');
}

/** Cohere Embed (English/Multilingual v3, v4) with one text per record. */
export const cohereEmbed: ModelAdapter = {
  family: 'cohere-embed',
  task: 'embedding',

  validateParams(params: ModelParams): void {
    rejectUnsupportedParams(this.family, params, ['inputType', 'truncate']);
    checkOneOf(this.family, 'inputType', params.inputType, COHERE_INPUT_TYPES);
    checkOneOf(this.family, 'truncate', params.truncate, COHERE_TRUNCATE);
  },

  buildRequest(text: string, params: ModelParams): Record<string, unknown> {
    const body: Record<string, unknown> = { texts: [text], input_type: params.inputType ?? 'search_document' };
    if (params.truncate !== undefined) body.truncate = params.truncate;
    return body;
  },

  parseResponse(output: unknown): ParsedResponse {
    // `embeddings` is number[][] (response_type "embeddings_floats") or, when the model answers
    // by type (embedding_types set; Embed v4), {float: number[][], …}.
    const embeddings = isObject(output) ? output.embeddings : undefined;
    const vectors = Array.isArray(embeddings) ? embeddings : isObject(embeddings) ? embeddings.float : undefined;
    const first = Array.isArray(vectors) ? vectors[0] : undefined;
    if (!isVector(first) || first.length === 0) {
      throw new ResponseShapeError('Cohere embedding response has no float vector in embeddings[0] or embeddings.float[0]');
    }
    // Cohere Embed reports no token counts per record; the job manifest has the totals.
    return { embedding: first };
  },
};

/**
 * The fast path of src/core/embedLine.ts for `embeddings_floats` records with one text
 * (`"embeddings":[[…]]`); by-type answers and anything else go through parseResponse.
 */
export const cohereEmbedLineShape: EmbedLineShape = { vectorKey: 'embeddings', nested: true };
