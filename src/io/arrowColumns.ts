import { Data, Field, Float32, Int32, List, RecordBatch, Schema, Struct, Utf8, makeBuilder, makeData, util } from 'apache-arrow';

// Builders that write Arrow buffers directly: vectorFromArray / makeBuilder are 3–6× slower on the
// string and embedding columns this project moves by the million.

export const FLOAT32_LIST_TYPE = (): List<Float32> => new List(new Field('item', new Float32(), true));

/** Validity bitmap (bit set = value present) or undefined when nothing is null. */
function validity(n: number, isNull: (i: number) => boolean): { nullBitmap: Uint8Array | undefined; nullCount: number } {
  let bitmap: Uint8Array | undefined;
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    if (!isNull(i)) continue;
    if (!bitmap) bitmap = new Uint8Array((n + 7) >> 3).fill(0xff);
    bitmap[i >> 3] &= ~(1 << (i & 7));
    nullCount++;
  }
  return { nullBitmap: bitmap, nullCount };
}

export function utf8Data(values: ReadonlyArray<string | null | undefined>): Data<Utf8> {
  const n = values.length;
  let units = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v != null) units += v.length;
  }
  // Never from the shared Buffer pool: the column owns its ArrayBuffer (it may be transferred or kept).
  // Sized for mostly-ASCII text with some slack: growing (a copy of everything so far) was common
  // near the end of a buffer sized exactly, when a value's worst case (3 bytes a unit) did not fit.
  let data = Buffer.allocUnsafeSlow(units + (units >> 4) + 1024);
  const valueOffsets = new Int32Array(n + 1);
  let used = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v != null && v.length > 0) {
      if (data.length - used < v.length * 3) {
        const need = Buffer.byteLength(v, 'utf8');
        if (data.length - used < need) {
          const grown = Buffer.allocUnsafeSlow(Math.max(data.length * 2, used + need));
          data.copy(grown, 0, 0, used);
          data = grown;
        }
      }
      // Buffer#write (as TextEncoder) writes a lone surrogate as U+FFFD, and is ~2x faster than encodeInto into a subarray.
      used += data.write(v, used, 'utf8');
      if (used > 0x7fffffff) throw new RangeError('utf8Data: more than 2 GiB of text in one column; use smaller batches');
    }
    valueOffsets[i + 1] = used;
  }
  const { nullBitmap, nullCount } = validity(n, (i) => values[i] == null);
  return makeData({ type: new Utf8(), length: n, nullCount, nullBitmap, valueOffsets, data: new Uint8Array(data.buffer, data.byteOffset, used) });
}

export function float32ListData(rows: ReadonlyArray<ArrayLike<number> | null | undefined>): Data<List<Float32>> {
  const n = rows.length;
  const valueOffsets = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += rows[i]?.length ?? 0;
    valueOffsets[i + 1] = total;
  }
  const flat = new Float32Array(total);
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    if (row?.length) flat.set(row, valueOffsets[i]);
  }
  const type = FLOAT32_LIST_TYPE();
  const child = makeData({ type: type.children[0].type, length: total, nullCount: 0, data: flat });
  const { nullBitmap, nullCount } = validity(n, (i) => rows[i] == null);
  return makeData({ type, length: n, nullCount, nullBitmap, valueOffsets, child });
}

export function int32Data(values: ReadonlyArray<number | null | undefined>): Data<Int32> {
  const n = values.length;
  const data = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v == null) continue;
    // Int32Array would silently truncate or wrap; a token count that does is a bug upstream.
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new RangeError(`int32Data: ${v} at row ${i} is not an int32`);
    data[i] = v;
  }
  const { nullBitmap, nullCount } = validity(n, (i) => values[i] == null);
  return makeData({ type: new Int32(), length: n, nullCount, nullBitmap, data });
}

/** Columns must be in schema order, equally long and of the schema's types. */
export function recordBatchOf(schema: Schema, columns: ReadonlyArray<Data>): RecordBatch {
  if (columns.length !== schema.fields.length) {
    throw new Error(`recordBatchOf: schema has ${schema.fields.length} fields, got ${columns.length} columns`);
  }
  const length = columns.length ? columns[0].length : 0;
  columns.forEach((c, i) => {
    const f = schema.fields[i];
    if (c.length !== length) throw new Error(`recordBatchOf: column ${f.name} has ${c.length} rows, expected ${length}`);
    if (!util.compareTypes(f.type, c.type)) throw new Error(`recordBatchOf: column ${f.name} is ${c.type}, schema says ${f.type}`);
  });
  const data = makeData({ type: new Struct(schema.fields), length, nullCount: 0, children: columns as Data[] });
  return new RecordBatch(schema, data);
}

/**
 * A zero-row batch carrying `schema`. Not `new RecordBatch(schema)`: with one argument that
 * constructor reads the schema as a column map, and its two-argument default leaves List children
 * unset, which breaks IPC serialisation.
 */
export function emptyBatch(schema: Schema): RecordBatch {
  const children = schema.fields.map((f) => makeBuilder({ type: f.type }).finish().flush());
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 0, nullCount: 0, children }));
}
