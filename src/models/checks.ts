import { ModelParams, ModelParamsError, ResponseShapeError, isObject, optionalNumber } from './types';

/** Output budget every text adapter sends when the run sets no maxTokens, so switching family or invocation type keeps it. */
export const DEFAULT_MAX_TOKENS = 1024;

/** Throws unless `value` is undefined or an integer in [min, max]. */
export function checkInt(family: string, name: keyof ModelParams, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
    throw new ModelParamsError(`${name} must be ${range} for ${family}, got ${JSON.stringify(value)}`);
  }
}

/** Throws unless `value` is undefined or a finite number in [min, max]. */
export function checkNumber(family: string, name: keyof ModelParams, value: unknown, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ModelParamsError(`${name} must be a number from ${min} to ${max} for ${family}, got ${JSON.stringify(value)}`);
  }
}

export function checkString(family: string, name: keyof ModelParams, value: unknown): void {
  if (value !== undefined && typeof value !== 'string') {
    throw new ModelParamsError(`${name} must be a string for ${family}, got ${JSON.stringify(value)}`);
  }
}

/** Throws unless `value` is undefined or an array of at most `maxItems` non-empty strings. */
export function checkStopSequences(family: string, value: unknown, maxItems = Number.MAX_SAFE_INTEGER): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || !value.every((s) => typeof s === 'string' && s.length > 0)) {
    throw new ModelParamsError(`stopSequences must be an array of non-empty strings for ${family}, got ${JSON.stringify(value)}`);
  }
  if (value.length > maxItems) {
    throw new ModelParamsError(`stopSequences takes at most ${maxItems} entries for ${family}, got ${value.length}`);
  }
}

export function checkOneOf<T extends string>(family: string, name: keyof ModelParams, value: unknown, allowed: ReadonlyArray<T>): void {
  if (value !== undefined && !allowed.includes(value as T)) {
    throw new ModelParamsError(`${name} must be one of ${allowed.join(', ')} for ${family}, got ${JSON.stringify(value)}`);
  }
}

/**
 * Reads the `output.message.content[].text` / `stopReason` / `usage` shape shared by the Converse API
 * and Amazon Nova's InvokeModel response. Non-text blocks (reasoningContent, toolUse, image) are skipped.
 */
export function parseMessageOutput(label: string, output: unknown) {
  const message = isObject(output) && isObject(output.output) ? output.output.message : undefined;
  if (!isObject(output) || !isObject(message) || !Array.isArray(message.content)) {
    throw new ResponseShapeError(`${label} response has no output.message.content array`);
  }
  const text = message.content
    .filter((block): block is { text: string } => isObject(block) && typeof block.text === 'string')
    .map((block) => block.text)
    .join('');
  const usage = isObject(output.usage) ? output.usage : {};
  return {
    text,
    stopReason: typeof output.stopReason === 'string' ? output.stopReason : undefined,
    inputTokens: optionalNumber(usage.inputTokens),
    outputTokens: optionalNumber(usage.outputTokens),
  };
}
