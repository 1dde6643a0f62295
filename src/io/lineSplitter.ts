/**
 * Splits a byte stream (an S3 body) into lines without readline: `Buffer.indexOf(10)` over each
 * chunk, about 10× cheaper than readline on Bedrock's ~28 KB embedding lines.
 *
 * Lines are yielded as bytes (zero-copy views of the chunk when a line lies inside one chunk, one
 * copy when it spans several), so a caller can parse them without decoding the whole line to a
 * string. `\n` (0x0A) never occurs inside a multi-byte UTF-8 sequence, so a character split across
 * chunks is simply carried with the unfinished line and decoded whole. A `\r` before the `\n` is
 * dropped; a last line without a newline is still yielded; empty lines are skipped.
 *
 * With `reuse`, a line that spans chunks is assembled in one buffer kept across calls instead of a
 * fresh Buffer.concat (on ~28 KB lines and 16–64 KB socket chunks that is most lines, 1.4 GB of
 * allocations a 50,000-line shard): lines are then valid only until the next `push`/`end`, so the
 * caller must parse or copy them before asking for more.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private joinBuffer: Buffer | undefined;

  constructor(private readonly opts: { reuse?: boolean } = {}) {}

  /** Appends to `out` every line that `chunk` completes. */
  push(chunk: Uint8Array, out: Buffer[]): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    let nl = buf.indexOf(10, 0);
    if (nl >= 0 && this.pendingBytes > 0) {
      this.pending.push(buf.subarray(0, nl));
      this.emit(this.join(this.pendingBytes + nl), out);
      this.pending = [];
      this.pendingBytes = 0;
      start = nl + 1;
      nl = buf.indexOf(10, start);
    }
    while (nl >= 0) {
      this.emit(buf.subarray(start, nl), out);
      start = nl + 1;
      nl = buf.indexOf(10, start);
    }
    if (start < buf.length) {
      this.pending.push(buf.subarray(start));
      this.pendingBytes += buf.length - start;
    }
  }

  /** Appends the last line when the stream did not end with a newline. */
  end(out: Buffer[]): void {
    if (this.pendingBytes > 0) this.emit(this.join(this.pendingBytes), out);
    this.pending = [];
    this.pendingBytes = 0;
  }

  private join(total: number): Buffer {
    if (!this.opts.reuse) return Buffer.concat(this.pending, total);
    if (!this.joinBuffer || this.joinBuffer.length < total) this.joinBuffer = Buffer.allocUnsafe(Math.max(total, 2 * (this.joinBuffer?.length ?? 32 * 1024)));
    let at = 0;
    for (const part of this.pending) {
      part.copy(this.joinBuffer, at);
      at += part.length;
    }
    return this.joinBuffer.subarray(0, total);
  }

  private emit(line: Buffer, out: Buffer[]): void {
    const n = line.length > 0 && line[line.length - 1] === 13 ? line.length - 1 : line.length;
    if (n > 0) out.push(n === line.length ? line : line.subarray(0, n));
  }
}

/**
 * The lines of a byte stream, a chunk's worth at a time (one await per chunk, not per line). With
 * `reuse`, a batch's lines are valid only until the next batch is requested (see LineSplitter).
 */
export async function* readLineBatches(body: AsyncIterable<Uint8Array | string>, opts: { reuse?: boolean } = {}): AsyncGenerator<Buffer[]> {
  const splitter = new LineSplitter(opts);
  for await (const chunk of body) {
    const out: Buffer[] = [];
    splitter.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk, out);
    if (out.length) yield out;
  }
  const out: Buffer[] = [];
  splitter.end(out);
  if (out.length) yield out;
}
