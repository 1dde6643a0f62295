import { ApplicationFailure } from '@temporalio/common';
import { INPUT_ERROR_TYPES } from '../shared/errors';

export class InputError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** Turns known input errors into non-retryable failures that keep their message and type. */
export function asActivityFailure(err: unknown): unknown {
  if (err instanceof Error && INPUT_ERROR_TYPES.includes(err.name)) {
    return ApplicationFailure.create({ message: err.message, type: err.name, nonRetryable: true });
  }
  return err;
}

export async function failingFast<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asActivityFailure(err);
  }
}
