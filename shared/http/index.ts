export { jsonBody } from './json-body.ts';
export { refuseUnknownParams } from './query-params.ts';
export { matchRoute, type HttpMethod, type Route, type RouteMatch } from './routes.ts';
export { badTargetMessage, requestTarget } from './request-target.ts';
export { respond, type RouteAnswer } from './respond.ts';
export {
  IDEMPOTENCY_KEY_HEADER,
  idempotencyKeyHeader,
  MAX_REQUEST_KEY_LENGTH,
  REPLAYED_HEADER,
  requestKeyOf,
  requestKeyReused,
} from './idempotency-key.ts';
