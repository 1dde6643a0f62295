/** A CSV the app cannot read as it is (bad quoting, field counts, encoding): an input error (src/shared/errors.ts). */
export class CsvFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvFormatError';
  }
}
