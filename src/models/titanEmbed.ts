import type { EmbedLineShape } from '../core/embedLine';
import { ModelAdapter, ModelParams, ModelParamsError, ParsedResponse, ResponseShapeError, isObject, optionalNumber, rejectUnsupportedParams } from './types';

const DIMENSIONS = [256, 512, 1024];

/** Amazon Titan Text Embeddings V2. */
export const titanEmbedV2: ModelAdapter = {
  family: 'amazon-titan-embed-v2',
  task: 'embedding',

  validateParams(params: ModelParams): void {
    rejectUnsupportedParams(this.family, params, ['dimensions', 'normalize']);
    if (params.dimensions !== undefined && !DIMENSIONS.includes(params.dimensions)) {
      throw new ModelParamsError(`dimensions must be one of ${DIMENSIONS.join(', ')} for Titan Text Embeddings V2, got ${params.dimensions}`);
    }
  },

  buildRequest(text: string, params: ModelParams): Record<string, unknown> {
    const body: Record<string, unknown> = { inputText: text };
    if (params.dimensions !== undefined) body.dimensions = params.dimensions;
    if (params.normalize !== undefined) body.normalize = params.normalize;
    return body;
  },

  parseResponse(output: unknown): ParsedResponse {
    if (!isObject(output) || !Array.isArray(output.embedding)) {
      throw new ResponseShapeError('Titan embedding response has no embedding array');
    }
    return { embedding: output.embedding as number[], inputTokens: optionalNumber(output.inputTextTokenCount), outputTokens: 0 };
  },
};

export function titanDimensions(params: ModelParams): number {
  return params.dimensions ?? 1024;
}

/**
 * Where parseResponse finds its values in a record's output line, for the fast path of
 * src/core/embedLine.ts (which falls back to parseResponse for anything else). Bedrock prints the
 * vector twice: `embedding` and `embeddingsByType.float`.
 */
export const titanEmbedLineShape: EmbedLineShape = {
  vectorKey: 'embedding',
  nested: false,
  inputTokensKey: 'inputTextTokenCount',
  outputTokens: 0,
  floatCopyKey: 'embeddingsByType',
};
