/**
 * Just enough of the Parquet footer (Thrift compact protocol), without wasm: FileMetaData.num_rows
 * (to check what the wasm writer really wrote) and where each row group's column chunks lie, with
 * their codec and encodings (to decode string columns in JS: utf8ParquetRead.ts).
 */

const MAGIC = [0x50, 0x41, 0x52, 0x31]; // "PAR1"

/** Footer length from the last 8 bytes, or undefined when they are not a Parquet trailer. */
export function footerLength(tail: Uint8Array): number | undefined {
  const n = tail.length;
  if (n < 8 || MAGIC.some((b, i) => tail[n - 4 + i] !== b)) return undefined;
  return (tail[n - 8] | (tail[n - 7] << 8) | (tail[n - 6] << 16) | (tail[n - 5] << 24)) >>> 0;
}

/**
 * num_rows of a Parquet file given (at least) its footer and trailer, or undefined when `tail` does
 * not hold the whole footer. Throws on a malformed footer.
 */
export function footerRowCount(tail: Uint8Array): number | undefined {
  const len = footerLength(tail);
  if (len === undefined || len + 8 > tail.length) return undefined;
  const r = new CompactReader(tail.subarray(tail.length - 8 - len, tail.length - 8));
  let rows: bigint | undefined;
  r.struct((id, type) => {
    if (id === 3 && type === T.I64) rows = r.zigzag64();
    else r.skip(type);
  });
  if (rows === undefined) throw new Error('parquet footer has no num_rows');
  return Number(rows);
}

/** A column chunk as the footer describes it (ColumnChunk.meta_data). */
export interface FooterChunk {
  path: string[];
  /** parquet.thrift Type (6: BYTE_ARRAY), CompressionCodec (0: none, 1: Snappy) and Encoding values. */
  physicalType: number;
  codec: number;
  encodings: number[];
  /** The chunk's first byte (its dictionary page, if any) and its total compressed size. */
  start: number;
  size: number;
}

/**
 * Every row group's rows and column chunks, from a tail holding the whole footer (undefined when it
 * does not). Throws on a malformed footer.
 */
export function footerRowGroups(tail: Uint8Array): Array<{ rows: number; chunks: FooterChunk[] }> | undefined {
  const len = footerLength(tail);
  if (len === undefined || len + 8 > tail.length) return undefined;
  const r = new CompactReader(tail.subarray(tail.length - 8 - len, tail.length - 8));
  const groups: Array<{ rows: number; chunks: FooterChunk[] }> = [];
  r.struct((id, type) => {
    if (id !== 4 || type !== T.LIST) return r.skip(type);
    r.list(() => {
      const group = { rows: 0, chunks: [] as FooterChunk[] };
      r.struct((gid, gt) => {
        if (gid === 1 && gt === T.LIST) r.list(() => group.chunks.push(readColumnChunk(r)));
        else if (gid === 3 && gt === T.I64) group.rows = r.int();
        else r.skip(gt);
      });
      groups.push(group);
    });
  });
  return groups;
}

function readColumnChunk(r: CompactReader): FooterChunk {
  const c: FooterChunk = { path: [], physicalType: -1, codec: -1, encodings: [], start: -1, size: -1 };
  let dataPage = -1;
  let dictionaryPage = -1;
  r.struct((id, type) => {
    if (id !== 3 || type !== T.STRUCT) return r.skip(type);
    r.struct((mid, mt) => {
      if (mid === 1 && mt === T.I32) c.physicalType = r.int();
      else if (mid === 2 && mt === T.LIST) r.list(() => c.encodings.push(r.int()));
      else if (mid === 3 && mt === T.LIST) r.list(() => c.path.push(r.string()));
      else if (mid === 4 && mt === T.I32) c.codec = r.int();
      else if (mid === 7 && mt === T.I64) c.size = r.int();
      else if (mid === 9 && mt === T.I64) dataPage = r.int();
      else if (mid === 11 && mt === T.I64) dictionaryPage = r.int();
      else r.skip(mt);
    });
  });
  // Some writers store a dictionary_page_offset of 0 for chunks without one.
  c.start = dictionaryPage > 0 && dictionaryPage < dataPage ? dictionaryPage : dataPage;
  return c;
}

const UTF8 = new TextDecoder();

// Thrift compact protocol type ids.
export const T = { TRUE: 1, FALSE: 2, I8: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12, UUID: 13 } as const;

/** Thrift compact-protocol reader (also used for the page headers of utf8ParquetRead.ts). */
export class CompactReader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  private byte(): number {
    if (this.pos >= this.buf.length) throw new Error('parquet footer truncated');
    return this.buf[this.pos++];
  }

  private advance(n: number): void {
    if (this.pos + n > this.buf.length) throw new Error('parquet footer truncated');
    this.pos += n;
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      if (shift > 63n) throw new Error('parquet footer: varint too long');
    }
  }

  /** A zigzag i32/i64 that fits a double exactly (sizes, counts, enum values). */
  int(): number {
    return Number(this.zigzag64());
  }

  zigzag64(): bigint {
    const v = this.varint();
    return (v >> 1n) ^ -(v & 1n);
  }

  private size(): number {
    return Number(this.varint());
  }

  string(): string {
    const n = this.size();
    this.advance(n);
    return UTF8.decode(this.buf.subarray(this.pos - n, this.pos));
  }

  /** A list or set: `onElement` reads each element (of the list's element type). */
  list(onElement: (type: number) => void): void {
    const h = this.byte();
    const n = h >> 4 === 15 ? this.size() : h >> 4;
    for (let i = 0; i < n; i++) onElement(h & 0x0f);
  }

  struct(onField: (id: number, type: number) => void): void {
    let last = 0;
    for (;;) {
      const header = this.byte();
      if (header === 0) return;
      const type = header & 0x0f;
      const delta = header >> 4;
      last = delta ? last + delta : Number(this.zigzag64());
      onField(last, type);
    }
  }

  skip(type: number, inCollection = false): void {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        // A bool field carries its value in the type nibble; a bool list element takes a byte.
        if (inCollection) this.advance(1);
        return;
      case T.I8:
        this.advance(1);
        return;
      case T.I16:
      case T.I32:
      case T.I64:
        this.varint();
        return;
      case T.DOUBLE:
        this.advance(8);
        return;
      case T.BINARY:
        this.advance(this.size());
        return;
      case T.UUID:
        this.advance(16);
        return;
      case T.LIST:
      case T.SET: {
        const h = this.byte();
        const n = h >> 4 === 15 ? this.size() : h >> 4;
        for (let i = 0; i < n; i++) this.skip(h & 0x0f, true);
        return;
      }
      case T.MAP: {
        const n = this.size();
        if (!n) return;
        const kv = this.byte();
        for (let i = 0; i < n; i++) {
          this.skip(kv >> 4, true);
          this.skip(kv & 0x0f, true);
        }
        return;
      }
      case T.STRUCT:
        this.struct((_, t) => this.skip(t));
        return;
      default:
        throw new Error(`parquet footer: unknown thrift type ${type}`);
    }
  }
}
