export type Task = 'text' | 'embedding';

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

export function rejectUnsupportedParams(family: string, params: ModelParams, supported: ReadonlyArray<keyof ModelParams>): void {
  const bad = Object.keys(params).filter((k) => (params as Record<string, unknown>)[k] !== undefined && !supported.includes(k as keyof ModelParams));
  if (bad.length) {
    throw new ModelParamsError(`${family} models do not take ${bad.join(', ')}; supported parameters: ${supported.join(', ')}`);
  }
}

export function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function optionalNumber(x: unknown): number | undefined {
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined;
}
