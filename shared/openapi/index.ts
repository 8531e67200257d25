export { buildOpenApiDocument, wirePath, type DocumentOptions } from './document.ts';
export {
  BAD_REQUEST,
  ErrorBodySchema,
  UNAUTHORIZED,
  errorResponse,
  type ApiExample,
  type ApiMethod,
  type ApiOperation,
  type ApiResponse,
} from './operation.ts';
export { apiOperations } from './operations.ts';
