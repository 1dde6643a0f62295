import { Answered, Json, Malformed, checkEnum, checkString, expect, isObject, noExtraneous, required, seededVector, tokens } from './common';

const TITAN_DIMENSIONS = [256, 512, 1024];

/** The Titan V2 vector for a record: sfc32 seeded by sha256(inputText), unit length unless normalize is false. */
export function titanEmbedding(modelInput: unknown): number[] {
  const input = isObject(modelInput) ? modelInput : {};
  const text = typeof input.inputText === 'string' ? input.inputText : '';
  const dims = TITAN_DIMENSIONS.includes(input.dimensions as number) ? (input.dimensions as number) : 1024;
  return seededVector(`titan-embed-v2:${text}`, dims, input.normalize !== false);
}

export function invokeTitan(body: Json): Answered {
  noExtraneous('#', body, ['inputText', 'dimensions', 'normalize', 'embeddingTypes']);
  const text = required('#', body, 'inputText');
  checkString('#/inputText', text, 1, 50_000);
  if (body.dimensions !== undefined) checkEnum('#/dimensions', body.dimensions, TITAN_DIMENSIONS);
  if (body.normalize !== undefined) expect('#/normalize', body.normalize, 'Boolean', typeof body.normalize === 'boolean');
  const types = body.embeddingTypes ?? ['float'];
  if (!Array.isArray(types) || types.length === 0 || !types.every((t) => t === 'float' || t === 'binary')) {
    throw new Malformed('#/embeddingTypes: expected a non-empty array of "float" | "binary"');
  }
  const embedding = titanEmbedding(body);
  const byType: Json = {};
  if (types.includes('float')) byType.float = embedding;
  if (types.includes('binary')) byType.binary = embedding.map((x) => (x > 0 ? 1 : 0));
  const inputTokens = tokens((text as string).length);
  return {
    ok: true,
    inputTokens,
    outputTokens: 0,
    modelOutput: { embedding, embeddingsByType: byType, inputTextTokenCount: inputTokens },
  };
}
