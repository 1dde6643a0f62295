import { canonicalJson } from '../hash';
import { Answered, Json, checkArray, checkEnum, checkString, isObject, noExtraneous, required, seededVector, tokens, uuidFrom } from './common';

const COHERE_KEYS = ['texts', 'images', 'input_type', 'truncate', 'embedding_types'];
const INPUT_TYPES = ['search_document', 'search_query', 'classification', 'clustering', 'image'];
const TRUNCATE = ['NONE', 'START', 'END'];
const EMBEDDING_TYPES = ['float', 'int8', 'uint8', 'binary', 'ubinary'];
const DIMENSIONS = 1024;

/**
 * A Cohere v3 vector: unit length, seeded by model, input_type and text, because the real model
 * gives different vectors for a document and a query of the same words.
 */
function vectorFor(baseId: string, inputType: unknown, text: string): number[] {
  return seededVector(`${baseId}:${String(inputType)}:${text}`, DIMENSIONS, true);
}

/** The float vector of texts[0], as the record's embeddings[0] (or embeddings.float[0]) holds it. */
export function cohereEmbedding(baseId: string, modelInput: unknown): number[] {
  const input = isObject(modelInput) ? modelInput : {};
  const first = Array.isArray(input.texts) && typeof input.texts[0] === 'string' ? input.texts[0] : '';
  return vectorFor(baseId, input.input_type, first);
}

function int8(v: number[]): number[] {
  const maxAbs = Math.max(...v.map(Math.abs)) || 1;
  return v.map((x) => Math.round((x / maxAbs) * 127));
}

/** Sign bits packed eight to a byte, most significant first: 1024 dims → 128 bytes. */
function ubinary(v: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < v.length; i += 8) {
    let byte = 0;
    for (let b = 0; b < 8; b++) byte = (byte << 1) | (v[i + b] > 0 ? 1 : 0);
    out.push(byte);
  }
  return out;
}

const QUANTIZE: Record<string, (v: number[]) => number[]> = {
  float: (v) => v,
  int8,
  uint8: (v) => int8(v).map((x) => x + 128),
  binary: (v) => ubinary(v).map((x) => x - 128),
  ubinary,
};

function validateCohere(body: Json): string[] {
  noExtraneous('#', body, COHERE_KEYS);
  checkEnum('#/input_type', required('#', body, 'input_type'), INPUT_TYPES);
  // Image embedding needs an image decoder to be meaningful; the emulator only does text.
  if (body.images !== undefined) throw new Error('The Bedrock emulator does not embed images; send texts instead.');
  const texts = checkArray('#/texts', required('#', body, 'texts'), 1, 96);
  texts.forEach((t, i) => {
    checkString(`#/texts/${i}`, t, 0, 2048);
  });
  if (body.truncate !== undefined) checkEnum('#/truncate', body.truncate, TRUNCATE);
  if (body.embedding_types !== undefined) {
    checkArray('#/embedding_types', body.embedding_types, 1).forEach((t, i) => {
      checkEnum(`#/embedding_types/${i}`, t, EMBEDDING_TYPES);
    });
  }
  return texts as string[];
}

/** Cohere's record carries no token counts; the estimate (characters of all texts / 4) only reaches the manifest. */
export function invokeCohere(baseId: string, body: Json): Answered {
  const texts = validateCohere(body);
  const vectors = texts.map((t) => vectorFor(baseId, body.input_type, t));
  const types = body.embedding_types as string[] | undefined;
  const embeddings = types ? Object.fromEntries([...new Set(types)].map((t) => [t, vectors.map(QUANTIZE[t])])) : vectors;
  return {
    ok: true,
    inputTokens: tokens(texts.reduce((n, t) => n + t.length, 0)),
    outputTokens: 0,
    modelOutput: {
      id: uuidFrom(`cohere:${baseId}:${canonicalJson(body)}`),
      texts,
      embeddings,
      response_type: types ? 'embeddings_by_type' : 'embeddings_floats',
    },
  };
}
