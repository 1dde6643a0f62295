import { Readable } from 'node:stream';
import { LineSplitter, readLineBatches } from '../../src/io/lineSplitter';

function splitAt(data: Buffer, cuts: number[], reuse = false): string[] {
  const s = new LineSplitter({ reuse });
  const lines: string[] = [];
  let prev = 0;
  for (const c of [...cuts, data.length]) {
    const out: Buffer[] = [];
    s.push(data.subarray(prev, c), out);
    // With reuse, lines must be read before the next push.
    lines.push(...out.map((b) => b.toString('utf8')));
    prev = c;
  }
  const out: Buffer[] = [];
  s.end(out);
  return [...lines, ...out.map((b) => b.toString('utf8'))];
}

describe('LineSplitter', () => {
  const text = '{"a":"héllo — 日本語 🎉"}\r\n{"b":2}\n\n{"c":"\\r"}\r\n{"last":true}';
  const data = Buffer.from(text, 'utf8');
  const expected = ['{"a":"héllo — 日本語 🎉"}', '{"b":2}', '{"c":"\\r"}', '{"last":true}'];

  it('splits on \\n, drops \\r before it and empty lines, keeps a last line without newline', () => {
    expect(splitAt(data, [])).toEqual(expected);
  });

  it('gives the same lines however the bytes are cut (lines and UTF-8 characters across chunks, \\r\\n split)', () => {
    for (let a = 0; a <= data.length; a++) {
      for (let b = a; b <= data.length; b += 3) {
        expect(splitAt(data, [a, b])).toEqual(expected);
        expect(splitAt(data, [a, b], true)).toEqual(expected);
      }
    }
    // One byte a chunk.
    expect(splitAt(data, Array.from({ length: data.length }, (_, i) => i))).toEqual(expected);
    expect(splitAt(data, Array.from({ length: data.length }, (_, i) => i), true)).toEqual(expected);
  });

  it('reads a stream in batches, with Uint8Array and string chunks', async () => {
    const chunks = [data.subarray(0, 7), new Uint8Array(data.subarray(7, 40)), data.subarray(40).toString('utf8')];
    const got: string[] = [];
    for await (const batch of readLineBatches(Readable.from(chunks, { objectMode: true }))) got.push(...batch.map((b) => b.toString('utf8')));
    expect(got).toEqual(expected);
  });

  it('with reuse, assembles long lines spanning many chunks in one growing buffer', () => {
    const long = Array.from({ length: 5 }, (_, i) => `{"n":${i},"v":"${'é'.repeat(40_000 + i)}"}`);
    const bytes = Buffer.from(long.join('\r\n'), 'utf8');
    const cuts = Array.from({ length: Math.floor(bytes.length / 16_384) }, (_, i) => (i + 1) * 16_384 + (i % 3));
    expect(splitAt(bytes, cuts, true)).toEqual(long);
  });

  it('yields nothing for an empty stream or only newlines', async () => {
    expect(splitAt(Buffer.alloc(0), [])).toEqual([]);
    expect(splitAt(Buffer.from('\n\r\n\n'), [1, 2])).toEqual([]);
  });
});
