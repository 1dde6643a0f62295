/**
 * A Parquet writer for files whose columns are all strings, in plain JS: each row group is one
 * uncompressed PLAIN data page a column, no dictionary, no statistics. Shard input snapshots of text
 * inputs are such files, written once and read back whole once (collectShard); through parquet-wasm
 * (Arrow builders, an IPC round trip into wasm memory, page encoding and SNAPPY) they cost ~15 µs a
 * 1.5 KB row, the largest cost of preprocessing after the JSONL lines; here it is one UTF-8 encode of
 * each value straight into the page (~2 µs). Any Parquet reader reads the result (arrow-rs maps
 * BYTE_ARRAY + STRING to Utf8, nullability from REQUIRED/OPTIONAL).
 */
import type { ObjectWriter } from './objectWriter';
import { Field, T, compactStruct } from './thriftCompact';

export interface Utf8ColumnSpec {
  name: string;
  nullable: boolean;
}

const MAGIC = Buffer.from('PAR1', 'ascii');
// parquet.thrift enum values.
const BYTE_ARRAY = 6;
const REQUIRED = 0;
const OPTIONAL = 1;
const UTF8 = 0;
const PLAIN = 0;
const RLE = 3;
const UNCOMPRESSED = 0;
const DATA_PAGE = 0;
/** FileMetaData.created_by: how utf8ParquetRead.ts knows a file it can decode in plain JS. */
export const UTF8_PARQUET_CREATED_BY = 'bedrock-batch utf8Parquet';

/** Definition levels (bit width 1) in the RLE/bit-packed hybrid, with data page v1's 4-byte length prefix. */
export function definitionLevels(values: ReadonlyArray<string | null | undefined>, nulls: number): Buffer {
  const n = values.length;
  if (n === 0) return Buffer.from([0, 0, 0, 0]);
  if (nulls === 0) {
    // One RLE run of n ones: header n << 1, then the value in one byte.
    const body = [...varintBytes(n * 2), 1];
    return Buffer.from([...u32(body.length), ...body]);
  }
  const groups = Math.ceil(n / 8);
  const header = varintBytes(groups * 2 + 1);
  const out = Buffer.alloc(4 + header.length + groups);
  out.writeUInt32LE(header.length + groups, 0);
  out.set(header, 4);
  const base = 4 + header.length;
  for (let i = 0; i < n; i++) if (values[i] != null) out[base + (i >> 3)] |= 1 << (i & 7);
  return out;
}

function varintBytes(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

function u32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** A column's page body: definition levels (when nullable), then each present value as 4-byte length + UTF-8. */
export function encodeColumnPage(values: ReadonlyArray<string | null | undefined>, nullable: boolean): Buffer {
  const n = values.length;
  let units = 0;
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v == null) nulls++;
    else units += v.length;
  }
  if (nulls && !nullable) throw new Error('utf8Parquet: null in a column that is not nullable');
  const levels = nullable ? definitionLevels(values, nulls) : undefined;
  // Sized for mostly-ASCII text; grows only when multi-byte text overflows it.
  let buf = Buffer.allocUnsafeSlow((levels?.length ?? 0) + 4 * n + units + (units >> 4) + 1024);
  let pos = 0;
  if (levels) pos += levels.copy(buf, 0);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v == null) continue;
    if (buf.length - pos - 4 < v.length * 3) {
      const need = 4 + Buffer.byteLength(v, 'utf8');
      if (buf.length - pos < need) {
        const grown = Buffer.allocUnsafeSlow(Math.max(buf.length * 2, pos + need));
        buf.copy(grown, 0, 0, pos);
        buf = grown;
      }
    }
    // Lone surrogates become U+FFFD, as TextEncoder (and so the Arrow path) writes them.
    const len = v.length ? buf.write(v, pos + 4, 'utf8') : 0;
    buf.writeUInt32LE(len, pos);
    pos += 4 + len;
  }
  return buf.subarray(0, pos);
}

/** Writes row groups of string columns to `out`, then the footer on close. */
export class Utf8ParquetWriter {
  private offset = 0;
  private rows = 0;
  private readonly rowGroups: Field[][] = [];

  constructor(
    private readonly out: ObjectWriter,
    private readonly columns: ReadonlyArray<Utf8ColumnSpec>,
  ) {}

  /** One row group from `values[c][r]` (column-major, every column the same length). */
  async writeRowGroup(values: ReadonlyArray<ReadonlyArray<string | null | undefined>>): Promise<void> {
    if (values.length !== this.columns.length) throw new Error(`utf8Parquet: ${values.length} columns given, ${this.columns.length} in the schema`);
    const n = values[0]?.length ?? 0;
    if (this.offset === 0) await this.put(MAGIC);
    const chunks: Field[][] = [];
    let groupBytes = 0;
    for (let c = 0; c < values.length; c++) {
      if (values[c].length !== n) throw new Error('utf8Parquet: columns of different lengths');
      const page = encodeColumnPage(values[c], this.columns[c].nullable);
      const header = compactStruct([
        [1, T.I32, DATA_PAGE],
        [2, T.I32, page.length],
        [3, T.I32, page.length],
        [5, T.STRUCT, [[1, T.I32, n], [2, T.I32, PLAIN], [3, T.I32, RLE], [4, T.I32, RLE]]],
      ]);
      const start = this.offset;
      await this.put(header);
      await this.put(page);
      const size = header.length + page.length;
      groupBytes += size;
      const meta: Field[] = [
        [1, T.I32, BYTE_ARRAY],
        [2, T.LIST, [T.I32, [PLAIN, RLE]]],
        [3, T.LIST, [T.BINARY, [this.columns[c].name]]],
        [4, T.I32, UNCOMPRESSED],
        [5, T.I64, n],
        [6, T.I64, size],
        [7, T.I64, size],
        [9, T.I64, start],
      ];
      chunks.push([[2, T.I64, start], [3, T.STRUCT, meta]]);
    }
    this.rowGroups.push([[1, T.LIST, [T.STRUCT, chunks]], [2, T.I64, groupBytes], [3, T.I64, n]]);
    this.rows += n;
  }

  async close(): Promise<void> {
    if (this.offset === 0) await this.put(MAGIC);
    const schema: Field[][] = [
      [[4, T.BINARY, 'schema'], [5, T.I32, this.columns.length]],
      ...this.columns.map((col): Field[] => [
        [1, T.I32, BYTE_ARRAY],
        [3, T.I32, col.nullable ? OPTIONAL : REQUIRED],
        [4, T.BINARY, col.name],
        [6, T.I32, UTF8],
        // LogicalType { STRING: StringType {} }
        [10, T.STRUCT, [[1, T.STRUCT, []]]],
      ]),
    ];
    const footer = compactStruct([
      [1, T.I32, 1],
      [2, T.LIST, [T.STRUCT, schema]],
      [3, T.I64, this.rows],
      [4, T.LIST, [T.STRUCT, this.rowGroups]],
      [6, T.BINARY, UTF8_PARQUET_CREATED_BY],
    ]);
    await this.put(footer);
    await this.put(Buffer.from([...u32(footer.length), ...MAGIC]));
  }

  private async put(bytes: Buffer): Promise<void> {
    this.offset += bytes.length;
    await this.out.write(bytes);
  }
}
