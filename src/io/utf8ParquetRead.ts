/**
 * Decodes, in plain JS, uncompressed flat string columns of Parquet files: BYTE_ARRAY values in
 * PLAIN or dictionary encoding, data pages v1 or v2 — what our own snapshots (utf8Parquet.ts) and
 * pyarrow, arrow-rs or DuckDB write for text without compression. Through parquet-wasm a snapshot
 * row cost ~7 µs (the column chunks copied into wasm memory, decoded by arrow-rs, copied out
 * through an IPC stream and parsed by apache-arrow); here each value's bytes are copied once into
 * the Arrow Utf8 buffers (~1 µs). Compressed files stay with wasm: a JS Snappy decoder ran at
 * ~170 MB/s on the benchmark's text, slower than arrow-rs's whole decode (2026-12-02).
 * parquetRead.ts sends a file here only when its footer shows nothing else (see stringLayout).
 */
import { Data, Utf8, makeData } from 'apache-arrow';
import { CompactReader, T } from './parquetFooter';

// parquet.thrift enum values.
const DATA_PAGE = 0;
const INDEX_PAGE = 1;
const DICTIONARY_PAGE = 2;
const DATA_PAGE_V2 = 3;
const PLAIN = 0;
const PLAIN_DICTIONARY = 2;
const RLE = 3;
const RLE_DICTIONARY = 8;

interface PageHeader {
  type: number;
  /** Offset of the page body in the chunk, and its size there. */
  body: number;
  size: number;
  uncompressed: number;
  numValues: number;
  encoding: number;
  levelEncoding: number;
  /** Data page v2: level bytes (uncompressed, before the values) and whether the values are compressed. */
  v2?: { definitionBytes: number; repetitionBytes: number; compressed: boolean };
}

function fail(message: string): never {
  throw new Error(`parquet string column: ${message}`);
}

function readPageHeader(chunk: Uint8Array, at: number): PageHeader {
  const r = new CompactReader(chunk.subarray(at));
  const h: PageHeader = { type: -1, body: 0, size: -1, uncompressed: -1, numValues: -1, encoding: -1, levelEncoding: RLE };
  const v2 = { definitionBytes: 0, repetitionBytes: 0, compressed: true };
  r.struct((id, t) => {
    if (id === 1 && t === T.I32) h.type = r.int();
    else if (id === 2 && t === T.I32) h.uncompressed = r.int();
    else if (id === 3 && t === T.I32) h.size = r.int();
    else if ((id === 5 || id === 7) && t === T.STRUCT) {
      // DataPageHeader and DictionaryPageHeader: num_values 1, encoding 2 (data pages: definition levels' encoding 3).
      r.struct((hid, ht) => {
        if (hid === 1 && ht === T.I32) h.numValues = r.int();
        else if (hid === 2 && ht === T.I32) h.encoding = r.int();
        else if (hid === 3 && ht === T.I32 && id === 5) h.levelEncoding = r.int();
        else r.skip(ht);
      });
    } else if (id === 8 && t === T.STRUCT) {
      r.struct((hid, ht) => {
        if (hid === 1 && ht === T.I32) h.numValues = r.int();
        else if (hid === 4 && ht === T.I32) h.encoding = r.int();
        else if (hid === 5 && ht === T.I32) v2.definitionBytes = r.int();
        else if (hid === 6 && ht === T.I32) v2.repetitionBytes = r.int();
        else if (hid === 7 && (ht === T.TRUE || ht === T.FALSE)) v2.compressed = ht === T.TRUE;
        else r.skip(ht);
      });
      h.v2 = v2;
    } else r.skip(t);
  });
  h.body = at + r.pos;
  if (h.size < 0 || h.uncompressed < 0) fail(`page at byte ${at} has no sizes`);
  return h;
}

function u32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

function varint(b: Uint8Array, at: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (;;) {
    const c = b[at++];
    if (c === undefined) fail('truncated RLE run header');
    v += (c & 0x7f) * mul;
    if (!(c & 0x80)) return [v, at];
    mul *= 128;
  }
}

/**
 * The RLE / bit-packed hybrid encoding of `n` values of `width` bits from `b[pos…end)` into
 * `out[from…from+n)` (definition levels: width 1; dictionary indices: the page's width). Returns
 * the offset after the runs read.
 */
function decodeHybrid(b: Uint8Array, pos: number, end: number, n: number, width: number, out: Uint8Array | Int32Array, from: number): number {
  if (width > 32) fail(`bit width ${width}`);
  const byteWidth = (width + 7) >> 3;
  let i = 0;
  while (i < n) {
    if (pos >= end) fail('too few RLE / bit-packed values');
    const [header, next] = varint(b, pos);
    pos = next;
    if (header & 1) {
      // Bit-packed: groups of 8 values, `width` bytes a group, least significant bit first.
      const count = (header >>> 1) * 8;
      if (pos + (count / 8) * width > end) fail('bit-packed run past its page');
      let bit = pos * 8;
      for (let k = 0; k < count; k++, bit += width) {
        if (i >= n) continue;
        let v = 0;
        for (let got = 0, p = bit; got < width; ) {
          const off = p & 7;
          const take = Math.min(8 - off, width - got);
          v |= ((b[p >> 3] >> off) & ((1 << take) - 1)) << got;
          got += take;
          p += take;
        }
        out[from + i++] = v;
      }
      pos += (count / 8) * width;
    } else {
      const count = header >>> 1;
      let v = 0;
      for (let k = 0; k < byteWidth; k++) v |= b[pos + k] << (8 * k);
      pos += byteWidth;
      for (let k = 0; k < count && i < n; k++) out[from + i++] = v;
    }
  }
  return pos;
}

/**
 * Definition levels of bit width 1 (RLE / bit-packed hybrid, data page v1: 4-byte length first)
 * into `levels[from…from+n)`; returns the offset after them.
 */
export function decodeDefinitionLevels(b: Uint8Array, at: number, n: number, levels: Uint8Array, from: number): number {
  const end = at + 4 + u32(b, at);
  if (end > b.length) fail('definition levels past the page');
  decodeHybrid(b, at + 4, end, n, 1, levels, from);
  return end;
}

/** A dictionary page's values: PLAIN byte arrays, as offsets into the page's bytes. */
interface Dictionary {
  bytes: Uint8Array;
  starts: Int32Array;
  ends: Int32Array;
}

function readDictionary(body: Uint8Array, count: number): Dictionary {
  const starts = new Int32Array(count);
  const ends = new Int32Array(count);
  let pos = 0;
  for (let k = 0; k < count; k++) {
    if (pos + 4 > body.length) fail('dictionary page shorter than its values');
    const len = u32(body, pos);
    starts[k] = pos + 4;
    ends[k] = pos + 4 + len;
    pos += 4 + len;
    if (pos > body.length) fail('dictionary value past its page');
  }
  return { bytes: body, starts, ends };
}

/** The Utf8 column being built: offsets per row, value bytes grown as needed. */
class Utf8Builder {
  readonly offsets: Int32Array;
  private values: Buffer;
  used = 0;

  constructor(rows: number, sizeHint: number) {
    this.offsets = new Int32Array(rows + 1);
    // Not zero-filled (every byte up to `used` is written; the column is a view of those only),
    // and not from the shared Buffer pool: the column owns its ArrayBuffer.
    this.values = Buffer.allocUnsafeSlow(Math.max(sizeHint, 1024));
  }

  add(row: number, src: Uint8Array, start: number, end: number): void {
    const len = end - start;
    if (this.used + len > this.values.length) this.grow(this.used + len);
    const values = this.values;
    const used = this.used;
    // Short values are copied by hand: a subarray per value costs more than the bytes.
    if (len < 64) for (let j = 0; j < len; j++) values[used + j] = src[start + j];
    else values.set(src.subarray(start, end), used);
    this.used = used + len;
    this.offsets[row + 1] = this.used;
  }

  skip(row: number): void {
    this.offsets[row + 1] = this.used;
  }

  data(): Uint8Array {
    return new Uint8Array(this.values.buffer, this.values.byteOffset, this.used);
  }

  private grow(need: number): void {
    const next = Buffer.allocUnsafeSlow(Math.max(need, this.values.length * 2));
    this.values.copy(next, 0, 0, this.used);
    this.values = next;
  }
}

function sized(body: Uint8Array, size: number): Uint8Array {
  if (body.length !== size) fail(`page of ${body.length} bytes says ${size} uncompressed: compressed pages are not decoded here`);
  return body;
}

/**
 * One column chunk (every page of it, back to back) of `rows` strings as Arrow Utf8 data.
 * `nullable`: the column is OPTIONAL (maximum definition level 1); its pages carry definition levels.
 */
export function decodeUtf8Chunk(chunk: Uint8Array, rows: number, nullable: boolean): Data<Utf8> {
  // Value bytes never exceed the chunk's, except where a dictionary repeats them (the buffer then grows).
  const out = new Utf8Builder(rows, chunk.length);
  const levels = nullable ? new Uint8Array(rows) : undefined;
  let dictionary: Dictionary | undefined;
  let indices = new Int32Array(0);
  let row = 0;
  let nulls = 0;
  for (let at = 0; at < chunk.length; ) {
    const page = readPageHeader(chunk, at);
    const end = page.body + page.size;
    if (end > chunk.length) fail('page runs past its column chunk');
    at = end;
    if (page.type === INDEX_PAGE) continue;
    if (page.type === DICTIONARY_PAGE) {
      if (page.encoding !== PLAIN && page.encoding !== PLAIN_DICTIONARY) fail(`dictionary page encoding ${page.encoding}`);
      dictionary = readDictionary(sized(chunk.subarray(page.body, end), page.uncompressed), page.numValues);
      continue;
    }
    if (page.type !== DATA_PAGE && page.type !== DATA_PAGE_V2) fail(`page type ${page.type}`);
    if (row + page.numValues > rows) fail('more values than the row group has rows');
    let body: Uint8Array;
    let pos = 0;
    if (page.v2) {
      const { definitionBytes, repetitionBytes, compressed } = page.v2;
      if (repetitionBytes !== 0) fail('repetition levels (not a flat column)');
      const levelEnd = page.body + definitionBytes;
      if (levels) decodeHybrid(chunk, page.body, levelEnd, page.numValues, 1, levels, row);
      const values = chunk.subarray(levelEnd, end);
      body = compressed ? sized(values, page.uncompressed - definitionBytes) : values;
    } else {
      if (page.levelEncoding !== RLE) fail(`definition level encoding ${page.levelEncoding}`);
      body = sized(chunk.subarray(page.body, end), page.uncompressed);
      if (levels) pos = decodeDefinitionLevels(body, 0, page.numValues, levels, row);
    }
    let present = page.numValues;
    if (levels) for (let k = 0; k < page.numValues; k++) present -= levels[row + k] === 0 ? 1 : 0;
    if (page.encoding === PLAIN) {
      for (let k = 0; k < page.numValues; k++, row++) {
        if (levels && levels[row] === 0) {
          nulls++;
          out.skip(row);
          continue;
        }
        if (pos + 4 > body.length) fail('value runs past its page');
        const len = u32(body, pos);
        pos += 4;
        if (pos + len > body.length) fail('value runs past its page');
        out.add(row, body, pos, pos + len);
        pos += len;
      }
      if (pos !== body.length) fail('page size does not match its values');
    } else if (page.encoding === RLE_DICTIONARY || page.encoding === PLAIN_DICTIONARY) {
      if (!dictionary) fail('dictionary-encoded page without a dictionary page');
      if (indices.length < present) indices = new Int32Array(present);
      if (present > 0) decodeHybrid(body, pos + 1, body.length, present, body[pos], indices, 0);
      const { bytes, starts, ends } = dictionary;
      for (let k = 0, v = 0; k < page.numValues; k++, row++) {
        if (levels && levels[row] === 0) {
          nulls++;
          out.skip(row);
          continue;
        }
        const id = indices[v++];
        if (id < 0 || id >= starts.length) fail(`dictionary index ${id} of ${starts.length}`);
        out.add(row, bytes, starts[id], ends[id]);
      }
    } else fail(`data page encoding ${page.encoding}`);
  }
  if (row !== rows) fail(`column chunk holds ${row} values, row group ${rows}`);
  let nullBitmap: Uint8Array | undefined;
  if (levels && nulls > 0) {
    // Arrow's validity bitmap is the definition levels packed LSB first.
    nullBitmap = new Uint8Array((rows + 7) >> 3);
    for (let i = 0; i < rows; i++) if (levels[i]) nullBitmap[i >> 3] |= 1 << (i & 7);
  }
  return makeData({ type: new Utf8(), length: rows, nullCount: nulls, nullBitmap, valueOffsets: out.offsets, data: out.data() });
}
