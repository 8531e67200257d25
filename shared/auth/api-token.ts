// The API token (api.token: BATCH_PROCESSING_API_TOKEN or the secret file api-token) guards every call
// that changes something. Configured → `Authorization: Bearer <token>` is required; not configured →
// everything stays open, as on a loopback development machine. The token itself never reaches an error
// message, a log line or an answer.
import { BatchError } from '../errors/index.ts';
import { sameSecret } from './constant-time.ts';

type Headers = Record<string, string | string[] | undefined>;

function authorizationHeader(headers: Headers): string | undefined {
  const value = headers['authorization'] ?? headers['Authorization'];
  return Array.isArray(value) ? value[0] : value;
}

/** True when no token is configured or the request carries the right bearer token. */
export function hasApiToken(headers: Headers, token: string | undefined): boolean {
  if (token === undefined) return true;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorizationHeader(headers) ?? '');
  return match !== null && sameSecret(match[1]!, token);
}

/**
 * Throws UNAUTHORIZED (401) unless the request may do `action`. Call it before any work is done, so a
 * refused call changes nothing.
 */
export function requireApiToken(headers: Headers, token: string | undefined, action: string): void {
  if (hasApiToken(headers, token)) return;
  const given = authorizationHeader(headers) === undefined ? 'no Authorization header' : 'a wrong token';
  throw new BatchError(
    'UNAUTHORIZED',
    `${action} needs the API token: send "Authorization: Bearer <token>" (the request had ${given})`,
  );
}
