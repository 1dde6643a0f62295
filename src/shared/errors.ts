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
