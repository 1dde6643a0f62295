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
