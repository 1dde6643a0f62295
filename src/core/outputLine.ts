import { ModelAdapter, ResponseShapeError, isObject } from '../models/types';
import { cohereEmbed, cohereEmbedLineShape } from '../models/cohereEmbed';
import { titanEmbedLineShape, titanEmbedV2 } from '../models/titanEmbed';
import { EmbedLineShape, parseEmbedLine } from './embedLine';
import { lineFields } from './lineFields';

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
  return resultOf(parseLineJson(line), adapter);
}

function parseLineJson(line: string): { recordId: string; error?: unknown; modelOutput?: unknown } {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    throw new OutputLineError(`output line is not JSON: ${line.slice(0, 120)}`);
  }
  if (!isObject(doc) || typeof doc.recordId !== 'string') {
    throw new OutputLineError(`output line has no recordId: ${line.slice(0, 120)}`);
  }
  return doc as { recordId: string; error?: unknown; modelOutput?: unknown };
}

/** The record of a parsed line: an error record, the family's response, or UNPARSEABLE_RESPONSE. */
function resultOf(doc: { recordId: string; error?: unknown; modelOutput?: unknown }, adapter: ModelAdapter): RecordResult {
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

const OUTPUT_KEYS = ['modelOutput', 'error'] as const;

/**
 * A successful line's record from its recordId and modelOutput alone (see lineFields.ts: the
 * prompt echoed in modelInput is skipped, not parsed), or undefined to fall back to the full parse:
 * an error record (rare, and its error object has its own defaults), no modelOutput, or a line not in
 * the plain shape. On a valid JSON line the result is the same as parseOutputLine's.
 */
export function parseLineOutputOnly(line: Buffer, adapter: ModelAdapter): RecordResult | undefined {
  const fields = lineFields(line, OUTPUT_KEYS);
  if (fields?.recordId === undefined || fields.spans.has('error')) return undefined;
  const span = fields.spans.get('modelOutput');
  if (!span) return undefined;
  let modelOutput: unknown;
  try {
    modelOutput = JSON.parse(line.toString('utf8', span[0], span[1]));
  } catch {
    return undefined;
  }
  return resultOf({ recordId: fields.recordId, modelOutput }, adapter);
}

/**
 * A parser for output lines given as UTF-8 bytes (as src/io/lineSplitter.ts yields them). For
 * embedding families it first tries the byte-level fast path (embedLine.ts), for every other family
 * the parse of modelOutput alone (parseLineOutputOnly); both give the same result as
 * `parseOutputLine` on the lines they accept. Every other line is decoded and fully parsed.
 * Returns undefined for a blank line.
 */
export function outputLineParser(adapter: ModelAdapter): (line: Buffer) => RecordResult | undefined {
  const shape = adapter.task === 'embedding' ? FAST_SHAPES.get(adapter.family) : undefined;
  return (line) => {
    const fast = shape ? parseEmbedLine(line, shape) : parseLineOutputOnly(line, adapter);
    if (fast) return fast;
    const text = line.toString('utf8');
    return text.trim() ? parseOutputLine(text, adapter) : undefined;
  };
}
