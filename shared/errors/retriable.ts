// Whether running the same work again may succeed. Reads only `retriable`, `code` (the catalogue's, a
// PostgreSQL SQLSTATE as node-postgres' DatabaseError carries it, or a Node socket error code) and follows
// `cause`; it never reads message text.
import { errorCatalogue, isErrorCode } from './codes.ts';

/** SQLSTATEs worth a retry: serialization failure, deadlock, shutdowns, too many connections. */
const RETRIABLE_SQLSTATES = new Set(['40001', '40P01', '57P01', '57P02', '57P03', '53300']);
/** Class 08: connection exceptions. */
const RETRIABLE_SQLSTATE_CLASSES = new Set(['08']);
/** Node socket errors of a peer that is down or restarting. */
const RETRIABLE_SYSTEM_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);

export function isSqlState(code: string): boolean {
  return /^[0-9A-Z]{5}$/.test(code);
}

export function isRetriableSqlState(code: string): boolean {
  return RETRIABLE_SQLSTATES.has(code) || RETRIABLE_SQLSTATE_CLASSES.has(code.slice(0, 2));
}

export function isRetriable(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 8) return false;
  const { retriable, code, cause } = err as { retriable?: unknown; code?: unknown; cause?: unknown };
  if (typeof retriable === 'boolean') return retriable;
  if (typeof code === 'string') {
    if (isErrorCode(code)) return errorCatalogue[code].retriable;
    if (isSqlState(code)) return isRetriableSqlState(code);
    if (RETRIABLE_SYSTEM_CODES.has(code)) return true;
  }
  const errors = (err as { errors?: unknown }).errors; // AggregateError, e.g. a connect to every address failed
  if (Array.isArray(errors) && errors.some((e) => isRetriable(e, depth + 1))) return true;
  return isRetriable(cause, depth + 1);
}

/** The HTTP status for an error: the catalogue's for a known code, else 500. */
export function httpStatusOf(err: unknown): number {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return isErrorCode(code) ? errorCatalogue[code].status : 500;
}
