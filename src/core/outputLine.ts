import { ModelAdapter, ResponseShapeError, isObject } from '../models/types';

/** One record's outcome, as read from a Bedrock output line. */
export interface RecordResult {
  recordId: string;
  text?: string;
  embedding?: Float32Array;
  stopReason?: string;
  inputTokens?: number;
  outputTokens?: number;
  errorCode?: string;
  errorMessage?: string;
}

export class OutputLineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputLineError';
  }
}

/**
 * Parses one line of a `.jsonl.out` file: `{recordId, modelInput, modelOutput}` on success or
 * `{recordId, modelInput, error: {errorCode, errorMessage}}` on a failed record. A success whose
 * body is not the family's shape becomes a record error rather than failing the shard.
 */
export function parseOutputLine(line: string, adapter: ModelAdapter): RecordResult {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    throw new OutputLineError(`output line is not JSON: ${line.slice(0, 120)}`);
  }
  if (!isObject(doc) || typeof doc.recordId !== 'string') {
    throw new OutputLineError(`output line has no recordId: ${line.slice(0, 120)}`);
  }
  const recordId = doc.recordId;
  if (doc.error !== undefined) {
    const err = isObject(doc.error) ? doc.error : {};
    return {
      recordId,
      errorCode: err.errorCode === undefined ? 'UNKNOWN' : String(err.errorCode),
      errorMessage: typeof err.errorMessage === 'string' ? err.errorMessage : JSON.stringify(doc.error),
    };
  }
  try {
    const parsed = adapter.parseResponse(doc.modelOutput);
    return {
      recordId,
      text: parsed.text,
      embedding: parsed.embedding ? Float32Array.from(parsed.embedding) : undefined,
      stopReason: parsed.stopReason,
      inputTokens: parsed.inputTokens,
      outputTokens: parsed.outputTokens,
    };
  } catch (err) {
    if (!(err instanceof ResponseShapeError)) throw err;
    return { recordId, errorCode: 'UNPARSEABLE_RESPONSE', errorMessage: err.message };
  }
}
