import { recordIdForRow, rowIndexOfRecordId } from '../../src/core/recordId';

describe('record ids', () => {
  it('are 11-digit row positions that round-trip', () => {
    expect(recordIdForRow(0)).toBe('00000000000');
    expect(recordIdForRow(2_214_940)).toBe('00002214940');
    expect(rowIndexOfRecordId(recordIdForRow(123_456))).toBe(123_456);
  });

  it('reject what they cannot represent', () => {
    expect(() => recordIdForRow(-1)).toThrow(RangeError);
    expect(() => rowIndexOfRecordId('abc')).toThrow(/not a record id/);
  });
});
