import { Data, DataType, Field, Float32, Int32, List, Schema, Utf8, makeData, makeVector, util } from 'apache-arrow';
import { emptyBatch, float32ListData, int32Data, recordBatchOf, utf8Data } from '../../src/io/arrowColumns';

describe('utf8Data', () => {
  it('encodes unicode, empty strings and nulls', () => {
    const values = ['a', '', null, 'ünïcødé', '😀😀', undefined, 'lone \ud800 surrogate', 'x'.repeat(5000)];
    const data = utf8Data(values);
    expect(data.length).toBe(values.length);
    expect(data.nullCount).toBe(2);
    const got = Array.from({ length: values.length }, (_, i) => makeVec(data).get(i));
    expect(got).toEqual(['a', '', null, 'ünïcødé', '😀😀', null, 'lone \ufffd surrogate', 'x'.repeat(5000)]);
  });

  it('grows its buffer for text that is mostly multi-byte', () => {
    const values = Array.from({ length: 2000 }, (_, i) => '漢字'.repeat(i % 50));
    expect(Array.from(makeVec(utf8Data(values)))).toEqual(values);
  });

  it('omits the validity bitmap when nothing is null', () => {
    const data = utf8Data(['a', 'b']);
    expect(data.nullCount).toBe(0);
    expect(data.nullBitmap?.byteLength ?? 0).toBe(0);
    expect(Array.from(makeVec(data))).toEqual(['a', 'b']);
  });
});

describe('float32ListData', () => {
  it('builds list<float32> with child "item", null rows and empty rows', () => {
    const rows = [[1, 2, 3], null, new Float32Array([0.5]), [], undefined];
    const data = float32ListData(rows);
    expect(String(data.type)).toBe('List<Float32>');
    expect((data.type as List).children[0].name).toBe('item');
    expect(data.nullCount).toBe(2);
    const vec = makeVec(data);
    expect(vec.get(0)?.toArray()).toEqual(new Float32Array([1, 2, 3]));
    expect(vec.get(1)).toBeNull();
    expect(vec.get(2)?.toArray()).toEqual(new Float32Array([0.5]));
    expect(vec.get(3)?.length).toBe(0);
    expect(vec.get(4)).toBeNull();
  });
});

describe('int32Data', () => {
  it('keeps values and nulls', () => {
    expect(Array.from(makeVec(int32Data([1, null, -5, 2147483647])))).toEqual([1, null, -5, 2147483647]);
  });

  it('rejects values an Int32Array would silently mangle', () => {
    expect(() => int32Data([1.5])).toThrow(RangeError);
    expect(() => int32Data([2 ** 31])).toThrow(/row 0/);
  });
});

describe('recordBatchOf', () => {
  const schema = new Schema([new Field('id', new Utf8(), false), new Field('n', new Int32(), true)]);

  it('assembles a batch in schema order', () => {
    const batch = recordBatchOf(schema, [utf8Data(['a', 'b']), int32Data([1, null])]);
    expect(batch.numRows).toBe(2);
    expect(util.compareSchemas(batch.schema, schema)).toBe(true);
    expect(batch.toArray().map((r) => r.toJSON())).toEqual([
      { id: 'a', n: 1 },
      { id: 'b', n: null },
    ]);
  });

  it('rejects wrong column count, length or type', () => {
    expect(() => recordBatchOf(schema, [utf8Data(['a'])])).toThrow(/2 fields/);
    expect(() => recordBatchOf(schema, [utf8Data(['a']), int32Data([1, 2])])).toThrow(/column n has 2 rows/);
    expect(() => recordBatchOf(schema, [int32Data([1]), int32Data([1])])).toThrow(/column id/);
    const f32 = makeData({ type: new Float32(), length: 1, data: new Float32Array(1) });
    expect(() => recordBatchOf(schema, [utf8Data(['a']), f32])).toThrow(/column n/);
  });
});

describe('emptyBatch', () => {
  it('has zero rows and the schema, including list columns', () => {
    const schema = new Schema([new Field('e', new List(new Field('item', new Float32(), true)), true)]);
    const b = emptyBatch(schema);
    expect(b.numRows).toBe(0);
    expect(util.compareSchemas(b.schema, schema)).toBe(true);
    expect(b.getChildAt(0)?.length).toBe(0);
  });
});

function makeVec<T extends DataType>(data: Data<T>) {
  return makeVector(data);
}
