/**
 * The part of the Blob interface parquet-wasm's `ParquetFile.fromFile` touches (size, slice,
 * arrayBuffer). It does no `instanceof Blob` check — a wasm-bindgen glue detail of the pinned
 * parquet-wasm 0.8, guarded by a regression test. `fs.openAsBlob` results also satisfy it.
 */
export interface BlobLike {
  readonly size: number;
  slice(start?: number, end?: number): BlobLike;
  /** Must resolve to a real ArrayBuffer of this realm (the glue checks `instanceof ArrayBuffer`). */
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** Blob.slice semantics: negative indexes count from the end, everything clamped to [0, size]. */
function clampSlice(size: number, a?: number, b?: number): [number, number] {
  const norm = (x: number | undefined, dflt: number) => {
    if (x === undefined || Number.isNaN(x)) return dflt;
    const v = Math.trunc(x);
    return v < 0 ? Math.max(size + v, 0) : Math.min(v, size);
  };
  const s = norm(a, 0);
  return [s, Math.max(s, norm(b, size))];
}

/** A BlobLike over `size` bytes whose reads are `read(start, end)` calls (end exclusive), e.g. ranged GETs. */
export function rangedBlob(size: number, read: (start: number, end: number) => Promise<ArrayBuffer>): BlobLike {
  const view = (start: number, end: number): BlobLike => ({
    size: end - start,
    slice(a?: number, b?: number): BlobLike {
      const [s, e] = clampSlice(end - start, a, b);
      return view(start + s, start + e);
    },
    arrayBuffer: () => (end <= start ? Promise.resolve(new ArrayBuffer(0)) : read(start, end)),
  });
  return view(0, size);
}
