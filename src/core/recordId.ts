/**
 * Record ids are the row's position in the input, zero-padded to 11 digits (Bedrock's documented
 * recordId form is 11 alphanumerics). Being a pure function of the row position, the same input
 * always yields the same ids, so a retried or replayed preprocessing step writes identical shards.
 */
const WIDTH = 11;

export function recordIdForRow(rowIndex: number): string {
  if (!Number.isSafeInteger(rowIndex) || rowIndex < 0) throw new RangeError(`bad row index ${rowIndex}`);
  return String(rowIndex).padStart(WIDTH, '0');
}

export function rowIndexOfRecordId(recordId: string): number {
  if (!/^\d{11}$/.test(recordId)) throw new RangeError(`not a record id of this app: ${JSON.stringify(recordId)}`);
  return Number(recordId);
}
