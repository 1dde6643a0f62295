import { Field, Schema, Utf8 } from 'apache-arrow';
import { recordBatchOf, utf8Data } from '../../src/io/arrowColumns';
import { JoinCounts, estimateBatchBytes, joinBatch } from '../../src/core/join';
import { OutputLineError, RecordResult, parseOutputLine } from '../../src/core/outputLine';
import { anthropicClaude } from '../../src/models/anthropic';
import { titanEmbedV2 } from '../../src/models/titanEmbed';

const claudeLine = (recordId: string, text: string) =>
  JSON.stringify({
    recordId,
    modelInput: { anthropic_version: 'bedrock-2023-05-31', max_tokens: 10, messages: [] },
    modelOutput: { content: [{ type: 'text', text }], stop_reason: 'end_turn', usage: { input_tokens: 5, output_tokens: 7 } },
  });

describe('output lines', () => {
  it('parses a success with the adapter', () => {
    expect(parseOutputLine(claudeLine('00000000003', 'hi'), anthropicClaude)).toEqual({
      recordId: '00000000003', text: 'hi', embedding: undefined, stopReason: 'end_turn', inputTokens: 5, outputTokens: 7,
    });
  });

  it('keeps a record error with its code and message', () => {
    const line = JSON.stringify({ recordId: '00000000004', modelInput: {}, error: { errorCode: 400, errorMessage: 'Malformed input request' } });
    expect(parseOutputLine(line, anthropicClaude)).toEqual({ recordId: '00000000004', errorCode: '400', errorMessage: 'Malformed input request' });
  });

  it('turns an unexpected body into a record error, and a broken line into an exception', () => {
    const odd = JSON.stringify({ recordId: '00000000005', modelInput: {}, modelOutput: { nope: true } });
    expect(parseOutputLine(odd, anthropicClaude)).toMatchObject({ recordId: '00000000005', errorCode: 'UNPARSEABLE_RESPONSE' });
    expect(() => parseOutputLine('{"modelOutput":{}}', anthropicClaude)).toThrow(OutputLineError);
    expect(() => parseOutputLine('{oops', anthropicClaude)).toThrow(/not JSON/);
  });

  it('reads embeddings into float32', () => {
    const line = JSON.stringify({ recordId: '00000000001', modelInput: {}, modelOutput: { embedding: [0.5, 0.25], inputTextTokenCount: 2 } });
    const r = parseOutputLine(line, titanEmbedV2);
    expect(Array.from(r.embedding!)).toEqual([0.5, 0.25]);
    expect(r.inputTokens).toBe(2);
  });
});

describe('join of outputs to input rows', () => {
  const schema = new Schema([new Field('record_id', new Utf8(), false), new Field('topic', new Utf8(), true)]);
  const snapshot = recordBatchOf(schema, [utf8Data(['00000000000', '00000000001', '00000000002']), utf8Data(['cats', 'dogs', null])]);

  it('matches by record id whatever the output order, and marks rows without output', () => {
    const results = new Map<string, RecordResult>();
    for (const r of [
      parseOutputLine(claudeLine('00000000002', 'third'), anthropicClaude),
      parseOutputLine(claudeLine('00000000000', 'first'), anthropicClaude),
    ]) results.set(r.recordId, r);
    const counts: JoinCounts = { rows: 0, succeeded: 0, failed: 0, recordErrors: 0, unanswered: 0, inputTokens: 0, outputTokens: 0 };
    const out = joinBatch(snapshot, results, 'text', 'abc123def456', counts);
    expect(out.schema.fields.map((f) => f.name)).toEqual([
      'topic', 'response', 'stop_reason', 'input_tokens', 'output_tokens', 'error_code', 'error_message', 'record_id', 'job_id',
    ]);
    const rows = out.toArray().map((r) => r.toJSON());
    expect(rows.map((r) => [r.topic, r.response, r.error_code, r.record_id])).toEqual([
      ['cats', 'first', null, '00000000000'],
      ['dogs', null, 'MISSING_OUTPUT', '00000000001'],
      [null, 'third', null, '00000000002'],
    ]);
    expect(rows[0].job_id).toBe('abc123def456');
    expect(counts).toEqual({ rows: 3, succeeded: 2, failed: 1, recordErrors: 0, unanswered: 1, inputTokens: 10, outputTokens: 14 });
  });

  it('writes every row with the job failure when the job produced nothing', () => {
    const counts: JoinCounts = { rows: 0, succeeded: 0, failed: 0, recordErrors: 0, unanswered: 0, inputTokens: 0, outputTokens: 0 };
    const out = joinBatch(snapshot, new Map(), 'embedding', undefined, counts, { code: 'JOB_FAILED', message: 'Bedrock job Failed: boom' });
    expect(out.numRows).toBe(3);
    expect(out.schema.fields.find((f) => f.name === 'embedding')?.type.toString()).toBe('List<Float32>');
    expect(out.getChild('error_message')!.toArray()).toEqual(['Bedrock job Failed: boom', 'Bedrock job Failed: boom', 'Bedrock job Failed: boom']);
    expect(counts.failed).toBe(3);
    expect(counts.unanswered).toBe(3);
  });

  it('carries embeddings through as list<float32>', () => {
    const results = new Map<string, RecordResult>([['00000000001', { recordId: '00000000001', embedding: Float32Array.from([1, 2, 3]), inputTokens: 4 }]]);
    const counts: JoinCounts = { rows: 0, succeeded: 0, failed: 0, recordErrors: 0, unanswered: 0, inputTokens: 0, outputTokens: 0 };
    const out = joinBatch(snapshot, results, 'embedding', 'j', counts);
    const embedding = out.getChild('embedding')!;
    expect(embedding.get(0)).toBeNull();
    expect(Array.from(embedding.get(1)!.toArray() as Float32Array)).toEqual([1, 2, 3]);
  });

  it('joins a zero-copy slice of a snapshot batch (ids read from the sliced buffers, non-ASCII too)', () => {
    const ids = ['00000000000', 'ïd-1', '00000000002', 'id-3'];
    const batch = recordBatchOf(schema, [utf8Data(ids), utf8Data(['a', 'b', 'c', 'd'])]);
    const results = new Map<string, RecordResult>(ids.map((id) => [id, { recordId: id, text: `answer ${id}` }]));
    const counts: JoinCounts = { rows: 0, succeeded: 0, failed: 0, recordErrors: 0, unanswered: 0, inputTokens: 0, outputTokens: 0 };
    const out = joinBatch(batch.slice(1, 3), results, 'text', 'j', counts);
    expect(out.toArray().map((r) => [r.topic, r.response, r.record_id])).toEqual([
      ['b', 'answer ïd-1', 'ïd-1'],
      ['c', 'answer 00000000002', '00000000002'],
    ]);
    expect(counts).toMatchObject({ rows: 2, succeeded: 2 });
  });

  it('estimates the Arrow bytes of slices from their own rows, not the shared buffers', () => {
    const n = 1000;
    const results = new Map<string, RecordResult>();
    const ids = Array.from({ length: n }, (_, i) => String(i).padStart(11, '0'));
    for (const id of ids) results.set(id, { recordId: id, embedding: new Float32Array(256), inputTokens: 1, outputTokens: 0 });
    const batch = recordBatchOf(schema, [utf8Data(ids), utf8Data(ids.map(() => 'x'.repeat(100)))]);
    const counts: JoinCounts = { rows: 0, succeeded: 0, failed: 0, recordErrors: 0, unanswered: 0, inputTokens: 0, outputTokens: 0 };
    const whole = estimateBatchBytes(joinBatch(batch, results, 'embedding', 'job', counts));
    const tenth = estimateBatchBytes(joinBatch(batch.slice(0, n / 10), results, 'embedding', 'job', counts));
    // 1 KiB of floats + 100 B of text + ids and offsets a row.
    expect(whole / n).toBeGreaterThan(1124);
    expect(whole / n).toBeLessThan(1250);
    expect(Math.abs(tenth * 10 - whole) / whole).toBeLessThan(0.02);
  });
});
