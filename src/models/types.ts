export type Task = 'text' | 'embedding';

/** The job's `modelInvocationType`: each family's own InvokeModel body, or the Converse request shape. */
export type InvocationType = 'InvokeModel' | 'Converse';

export type CohereInputType = 'search_document' | 'search_query' | 'classification' | 'clustering';
export type CohereTruncate = 'NONE' | 'START' | 'END';

/** Model parameters in one vocabulary for every family; each adapter maps the ones it supports. */
export interface ModelParams {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  stopSequences?: string[];
  system?: string;
  dimensions?: number;
  normalize?: boolean;
  /**
   * Cohere Embed `input_type` (default `search_document`): `search_document` for texts stored in a
   * vector index, `search_query` for queries against it, `classification`, `clustering`.
   */
  inputType?: CohereInputType;
  /** Cohere Embed `truncate`: `NONE` (the model's default: over-long input is an error), `START` or `END` (drop that end). */
  truncate?: CohereTruncate;
}

export interface ParsedResponse {
  text?: string;
  embedding?: number[];
  stopReason?: string;
  inputTokens?: number;
  outputTokens?: number;
}

export interface ModelAdapter {
  /** Family name, e.g. 'anthropic-claude'. */
  readonly family: string;
  readonly task: Task;
  /** Throws ModelParamsError naming each parameter the family does not take or a bad value. */
  validateParams(params: ModelParams): void;
  /** The `modelInput` of one batch record, from a rendered prompt or the text to embed. */
  buildRequest(input: string, params: ModelParams): Record<string, unknown>;
  /** Reads a record's `modelOutput`; throws ResponseShapeError when it is not the family's shape. */
  parseResponse(modelOutput: unknown): ParsedResponse;
}

export class ModelParamsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelParamsError';
  }
}

export class ResponseShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResponseShapeError';
  }
}

export class UnknownModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownModelError';
  }
}

/**
 * Throws ModelParamsError naming every set parameter outside `supported`; `why` adds a reason for
 * particular ones (e.g. that the family's request body has no such field).
 */
export function rejectUnsupportedParams(
  family: string,
  params: ModelParams,
  supported: ReadonlyArray<keyof ModelParams>,
  why: Partial<Record<keyof ModelParams, string>> = {},
): void {
  const bad = Object.keys(params).filter((k) => (params as Record<string, unknown>)[k] !== undefined && !supported.includes(k as keyof ModelParams));
  if (bad.length) {
    const reasons = bad.map((k) => why[k as keyof ModelParams]).filter((r): r is string => !!r);
    const detail = reasons.length ? ` (${reasons.join('; ')})` : '';
    throw new ModelParamsError(`${family} models do not take ${bad.join(', ')}${detail}; supported parameters: ${supported.join(', ')}`);
  }
}

export function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function optionalNumber(x: unknown): number | undefined {
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined;
}
