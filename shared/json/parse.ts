// JSON text from a caller → a value within JSON_LIMITS, or a catalogued 4xx saying what was wrong and
// what to send. Every request-body parser goes through here (the template's JSON bodies, text bodies read
// as JSON, cursors), so no caller can hand a handler something its code cannot walk.
import { BatchError } from '../errors/index.ts';
import { jsonBreach, type JsonBreach } from './limits.ts';
import { fieldPath } from './path.ts';

/** "request body field "a[0].b" nests more than 64 levels deep; …" */
export function describeBreach(subject: string, found: JsonBreach): string {
  const field = fieldPath(found.path);
  return field === '' ? `${subject} ${found.found}` : `${subject} field "${field}" ${found.found}`;
}

/** Throws REQUEST_JSON_LIMIT (422) when a parsed value breaks a limit; returns it otherwise. */
export function withinJsonLimits<T>(value: T, subject = 'request body'): T {
  const found = jsonBreach(value);
  if (found === undefined) return value;
  throw new BatchError('REQUEST_JSON_LIMIT', describeBreach(subject, found), {
    context: { limit: found.limit, field: fieldPath(found.path) },
  });
}

/**
 * Parses `text` as JSON held to JSON_LIMITS. Not JSON → REQUEST_INVALID (400) with `expected` as the fix;
 * a limit broken → REQUEST_JSON_LIMIT (422) naming the limit and the field.
 */
export function parseJsonText(text: string, expected: string, subject = 'request body'): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BatchError(
      'REQUEST_INVALID',
      `${subject} is not JSON (${(err as Error).message}); ${expected}`,
      {
        context: { field: 'body', body: text.slice(0, 80) },
      },
    );
  }
  return withinJsonLimits(value, subject);
}
