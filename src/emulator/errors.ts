/** The error shapes Bedrock models for the job operations and the runtime's InvokeModel/Converse, with the HTTP status each one travels with. */
export const ERROR_STATUS = {
  ValidationException: 400,
  ConflictException: 400,
  ServiceQuotaExceededException: 400,
  TooManyTagsException: 400,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  UnknownOperationException: 404,
  ThrottlingException: 429,
  InternalServerException: 500,
  // bedrock-runtime's own shapes (InvokeModel, Converse), statuses from its service model.
  ModelTimeoutException: 408,
  ModelErrorException: 424,
  ModelNotReadyException: 429,
  ServiceUnavailableException: 503,
} as const;

export type ErrorShape = keyof typeof ERROR_STATUS;

/** Thrown anywhere in request handling; the server turns it into Bedrock's wire form. */
export class ApiError extends Error {
  readonly status: number;
  constructor(readonly shape: ErrorShape, message: string) {
    super(message);
    this.name = shape;
    this.status = ERROR_STATUS[shape];
  }
}

export const validation = (message: string) => new ApiError('ValidationException', message);
