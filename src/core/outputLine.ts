import { ModelAdapter, ResponseShapeError, isObject } from '../models/types';
import { cohereEmbed, cohereEmbedLineShape } from '../models/cohereEmbed';
import { titanEmbedLineShape, titanEmbedV2 } from '../models/titanEmbed';
import { EmbedLineShape, parseEmbedLine } from './embedLine';

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
  /** The job whose output line this is, when a shard's records came from several jobs. */
  jobId?: string;
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

const FAST_SHAPES: ReadonlyMap<string, EmbedLineShape> = new Map([
  [titanEmbedV2.family, titanEmbedLineShape],
  [cohereEmbed.family, cohereEmbedLineShape],
]);

/**
 * A parser for output lines given as UTF-8 bytes (as src/io/lineSplitter.ts yields them). For
 * embedding families it first tries the byte-level fast path, which gives the same result as
 * `parseOutputLine` on the lines it accepts; every other line is decoded and fully parsed.
 * Returns undefined for a blank line.
 */
export function outputLineParser(adapter: ModelAdapter): (line: Buffer) => RecordResult | undefined {
  const shape = adapter.task === 'embedding' ? FAST_SHAPES.get(adapter.family) : undefined;
  return (line) => {
    if (shape) {
      const fast = parseEmbedLine(line, shape);
      if (fast) return fast;
    }
    const text = line.toString('utf8');
    return text.trim() ? parseOutputLine(text, adapter) : undefined;
  };
}
