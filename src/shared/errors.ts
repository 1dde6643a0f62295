/** Error types that mean "the input is wrong": retrying cannot help, so the run fails at once. */
export const INPUT_ERROR_TYPES = [
  'RunInputError',
  'UnknownModelError',
  'ModelParamsError',
  'UnknownPromptError',
  'TemplateSyntaxError',
  'CsvFormatError',
  'ShardPlanError',
  'InputNotFoundError',
  'InputChangedError',
  'DatasetError',
];

/** The innermost message down an error's cause chain: what actually went wrong. */
export function rootMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
