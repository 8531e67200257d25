export { BatchError, isBatchError } from './batch-error.ts';
export type { BatchErrorOptions } from './batch-error.ts';
export { errorCatalogue, errorCodes, isErrorCode } from './codes.ts';
export type { ErrorCode, ErrorSpec } from './codes.ts';
export { httpStatusOf, isRetriable, isRetriableSqlState, isSqlState } from './retriable.ts';
export { retryRetriable, type RetryPolicy } from './retry.ts';
