// A request body as JSON whatever its content type: the template parses `application/json` already, but
// `curl -d '{…}'` sends form encoding, and its text must read the same. '' means no body.
import { BatchError } from '../errors/index.ts';

/** `body` (parsed JSON, or text that must be JSON); `expected` shows the caller what to send. */
export function jsonBody(body: unknown, expected: string): unknown {
  if (typeof body !== 'string') return body;
  if (body.trim() === '') return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new BatchError('REQUEST_INVALID', `the request body is not JSON; ${expected}`, {
      context: { field: 'body', body: body.slice(0, 80) },
    });
  }
}
