/**
 * Reads back, in plain JS, the all-string Parquet files that utf8Parquet.ts writes (shard input
 * snapshots of text inputs): uncompressed PLAIN data pages of BYTE_ARRAY values. Through parquet-wasm
 * a snapshot row cost ~7 µs (the column chunks copied into wasm memory, decoded by arrow-rs, copied
 * out through an IPC stream and parsed by apache-arrow); here it is one copy of each value's bytes
 * into the Arrow Utf8 buffers (~1 µs), about a fifth of collectShard's CPU on text.
 */
import { Data, Utf8, makeData } from 'apache-arrow';
import { CompactReader, T } from './parquetFooter';

import { UTF8_PARQUET_CREATED_BY } from './utf8Parquet';

// parquet.thrift enum values.
const DATA_PAGE = 0;
const PLAIN = 0;
const RLE = 3;

interface DataPageHeader {
  /** Offset of the page body in the chunk. */
  body: number;
  size: number;
  numValues: number;
}

function readPageHeader(chunk: Uint8Array, at: number): DataPageHeader {
  const r = new CompactReader(chunk.subarray(at));
  let type = -1;
  let size = -1;
  let uncompressed = -1;
  let numValues = -1;
  let encoding = -1;
  let levelEncoding = RLE;
  r.struct((id, t) => {
    if (id === 1 && t === T.I32) type = r.int();
    else if (id === 2 && t === T.I32) uncompressed = r.int();
    else if (id === 3 && t === T.I32) size = r.int();
    else if (id === 5 && t === T.STRUCT) {
      r.struct((hid, ht) => {
        if (hid === 1 && ht === T.I32) numValues = r.int();
        else if (hid === 2 && ht === T.I32) encoding = r.int();
        else if (hid === 3 && ht === T.I32) levelEncoding = r.int();
        else r.skip(ht);
      });
    } else r.skip(t);
  });
  if (type !== DATA_PAGE || encoding !== PLAIN || levelEncoding !== RLE || size < 0 || size !== uncompressed || numValues < 0) {
    throw new Error(`utf8 parquet read: unexpected page (type ${type}, encoding ${encoding}, ${size}/${uncompressed} bytes); not a ${UTF8_PARQUET_CREATED_BY} file`);
  }
  return { body: at + r.pos, size, numValues };
}

function u32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

function varint(b: Uint8Array, at: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (;;) {
    const c = b[at++];
    if (c === undefined) throw new Error('utf8 parquet read: truncated definition levels');
    v += (c & 0x7f) * mul;
    if (!(c & 0x80)) return [v, at];
    mul *= 128;
  }
}

/**
 * Definition levels of bit width 1 (RLE / bit-packed hybrid, data page v1: 4-byte length first)
 * into `levels[from…from+n)`; returns the offset after them.
 */
export function decodeDefinitionLevels(b: Uint8Array, at: number, n: number, levels: Uint8Array, from: number): number {
  const len = u32(b, at);
  const end = at + 4 + len;
  if (end > b.length) throw new Error('utf8 parquet read: definition levels past the page');
  let pos = at + 4;
  let i = 0;
  while (i < n) {
    if (pos >= end) throw new Error('utf8 parquet read: too few definition levels');
    const [header, next] = varint(b, pos);
    pos = next;
    if (header & 1) {
      // Bit-packed: groups of 8 values, one byte each at bit width 1, least significant bit first.
      const groups = header >>> 1;
      for (let g = 0; g < groups; g++) {
        const byte = b[pos++];
        for (let k = 0; k < 8 && i < n; k++) levels[from + i++] = (byte >> k) & 1;
      }
    } else {
      const count = header >>> 1;
      const value = b[pos++] & 1;
      for (let k = 0; k < count && i < n; k++) levels[from + i++] = value;
    }
  }
  return end;
}

/**
 * One column chunk (every page of it, back to back) of `rows` strings as Arrow Utf8 data.
 * `nullable`: the column is OPTIONAL, its pages start with definition levels.
 */
export function decodeUtf8Chunk(chunk: Uint8Array, rows: number, nullable: boolean): Data<Utf8> {
  const offsets = new Int32Array(rows + 1);
  // Value bytes are the chunk less page headers, levels and 4-byte lengths: never more than it.
  // Not zero-filled (every byte up to `used` is written; the column is a view of those only), and
  // not from the shared Buffer pool: the column owns its ArrayBuffer.
  const values = Buffer.allocUnsafeSlow(chunk.length);
  const levels = nullable ? new Uint8Array(rows) : undefined;
  let used = 0;
  let row = 0;
  let nulls = 0;
  for (let at = 0; at < chunk.length; ) {
    const page = readPageHeader(chunk, at);
    const end = page.body + page.size;
    if (end > chunk.length || row + page.numValues > rows) throw new Error('utf8 parquet read: page runs past its column chunk');
    let pos = levels ? decodeDefinitionLevels(chunk, page.body, page.numValues, levels, row) : page.body;
    for (let k = 0; k < page.numValues; k++, row++) {
      if (levels && levels[row] === 0) {
        nulls++;
        offsets[row + 1] = used;
        continue;
      }
      const len = u32(chunk, pos);
      pos += 4;
      if (pos + len > end) throw new Error('utf8 parquet read: value runs past its page');
      // Short values are copied by hand: a subarray per value costs more than the bytes.
      if (len < 64) for (let j = 0; j < len; j++) values[used + j] = chunk[pos + j];
      else values.set(chunk.subarray(pos, pos + len), used);
      used += len;
      pos += len;
      offsets[row + 1] = used;
    }
    if (pos !== end) throw new Error('utf8 parquet read: page size does not match its values');
    at = end;
  }
  if (row !== rows) throw new Error(`utf8 parquet read: column chunk holds ${row} values, row group ${rows}`);
  let nullBitmap: Uint8Array | undefined;
  if (levels && nulls > 0) {
    // Arrow's validity bitmap is the definition levels packed LSB first.
    nullBitmap = new Uint8Array((rows + 7) >> 3);
    for (let i = 0; i < rows; i++) if (levels[i]) nullBitmap[i >> 3] |= 1 << (i & 7);
  }
  return makeData({ type: new Utf8(), length: rows, nullCount: nulls, nullBitmap, valueOffsets: offsets, data: new Uint8Array(values.buffer, values.byteOffset, used) });
}
