import { Field, Int32, RecordBatch, Schema, Utf8, vectorFromArray } from 'apache-arrow';
import { batchRows } from '../../src/io/parquetRows';
import { int32Data, recordBatchOf, utf8Data } from '../../src/io/arrowColumns';

describe('batchRows', () => {
  const schema = new Schema([new Field('s', new Utf8(), true), new Field('n', new Int32(), true), new Field('t', new Utf8(), false)]);
  const s = Array.from({ length: 50 }, (_, i) => (i % 7 === 0 ? null : i % 3 === 0 ? `ünïcødé 😀 ${i}\n"q", c` : i % 5 === 0 ? '' : `row ${i}`));
  const n = Array.from({ length: 50 }, (_, i) => (i % 4 === 0 ? null : i));
  const t = Array.from({ length: 50 }, (_, i) => `t${i}`);
  const expected = s.map((_, i) => [s[i], n[i], t[i]]);

  it('gives each row as an array in schema order, nulls as null', () => {
    const batch = recordBatchOf(schema, [utf8Data(s), int32Data(n), utf8Data(t)]);
    expect([...batchRows(batch)]).toEqual(expected);
  });

  it('handles sliced batches and builder-made vectors the same as Vector.get', () => {
    const batch = recordBatchOf(schema, [utf8Data(s), int32Data(n), utf8Data(t)]);
    expect([...batchRows(batch.slice(13))]).toEqual(expected.slice(13));
    expect([...batchRows(batch.slice(5, 20))]).toEqual(expected.slice(5, 20));
    const built = new RecordBatch({ s: vectorFromArray(s, new Utf8()).data[0] });
    expect([...batchRows(built)]).toEqual(s.map((v) => [v]));
  });
});
