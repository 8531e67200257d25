// A request body as JSON whatever its content type: the template parses `application/json` already, but
// `curl -d '{…}'` sends form encoding, and its text must read the same. '' means no body. Parsed through
// shared/json, so text bodies are held to JSON_LIMITS like JSON ones.
import { parseJsonText } from '../json/index.ts';

/** `body` (parsed JSON, or text that must be JSON); `expected` shows the caller what to send. */
export function jsonBody(body: unknown, expected: string): unknown {
  if (typeof body !== 'string') return body;
  if (body.trim() === '') return undefined;
  return parseJsonText(body, expected, 'the request body');
}
