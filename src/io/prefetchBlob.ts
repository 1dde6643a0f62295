import type { BlobLike } from './blob';

interface Region {
  start: number;
  bytes: Uint8Array;
}

/**
 * parquet-wasm 0.8 unwraps Blob reads inside wasm: a rejected or short `arrayBuffer()` while it
 * decodes is a Rust panic — an uncaught `RuntimeError: unreachable`, with the awaiting promise
 * never settling. So the reader fetches in JS, ahead of each wasm call, the byte ranges wasm will
 * ask for; a failed GET then rejects like any other error, and wasm reads only memory.
 * A read outside the prefetched regions (a layout we did not predict) still goes to the
 * underlying blob.
 */
export class PrefetchingBlob {
  private regions: Region[] = [];

  constructor(private readonly inner: BlobLike) {}

  get size(): number {
    return this.inner.size;
  }

  async fetch(start: number, end: number): Promise<Region> {
    const bytes = new Uint8Array(await this.inner.slice(start, end).arrayBuffer());
    if (bytes.byteLength !== end - start) throw new Error(`short read: bytes ${start}-${end - 1} returned ${bytes.byteLength} bytes`);
    return { start, bytes };
  }

  /** Replaces the served regions: memory holds only what the next wasm call needs. */
  serve(regions: Region[]): void {
    this.regions = regions;
  }

  /** The Blob handed to wasm. */
  view(start = 0, end = this.size): BlobLike {
    return {
      size: end - start,
      slice: (a?: number, b?: number) => {
        const len = end - start;
        const clamp = (x: number | undefined, d: number) => (x === undefined ? d : x < 0 ? Math.max(len + x, 0) : Math.min(x, len));
        const s = clamp(a, 0);
        return this.view(start + s, start + Math.max(s, clamp(b, len)));
      },
      arrayBuffer: async () => {
        const hit = this.regions.find((r) => r.start <= start && end <= r.start + r.bytes.byteLength);
        if (!hit) return this.inner.slice(start, end).arrayBuffer();
        // wasm asks for a whole row group's chunks in one read (arrow-rs coalesces them): the fetched
        // buffer itself then goes, uncopied; wasm copies it into its memory and nothing writes to it.
        if (hit.start === start && hit.bytes.byteLength === end - start && isWholeBuffer(hit.bytes)) return hit.bytes.buffer;
        // A fresh ArrayBuffer of this realm, as wasm-bindgen's `instanceof ArrayBuffer` requires.
        const out = new ArrayBuffer(end - start);
        new Uint8Array(out).set(hit.bytes.subarray(start - hit.start, end - hit.start));
        return out;
      },
    };
  }
}

function isWholeBuffer(bytes: Uint8Array): bytes is Uint8Array<ArrayBuffer> {
  return bytes.byteOffset === 0 && bytes.buffer instanceof ArrayBuffer && bytes.buffer.byteLength === bytes.byteLength;
}
