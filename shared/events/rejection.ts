// Why an event was refused. Codes are the EVENT_* entries of the shared error catalogue (shared/errors).
import type { ErrorCode } from '../errors/index.ts';
export { fieldPath } from '../json/path.ts';

export type RejectionCode = Extract<
  ErrorCode,
  | 'EVENT_NOT_JSON'
  | 'EVENT_JSON_LIMIT'
  | 'EVENT_SCHEMA'
  | 'EVENT_NON_FINITE'
  | 'EVENT_TOO_LARGE'
  | 'EVENT_TOO_MANY_FIELDS'
  | 'EVENT_TOO_FAR_IN_FUTURE'
  | 'EVENT_TOO_OLD'
  | 'EVENT_DAY_ARCHIVED'
>;

export const REJECTION_CODES: readonly RejectionCode[] = Object.freeze([
  'EVENT_NOT_JSON',
  'EVENT_JSON_LIMIT',
  'EVENT_SCHEMA',
  'EVENT_NON_FINITE',
  'EVENT_TOO_LARGE',
  'EVENT_TOO_MANY_FIELDS',
  'EVENT_TOO_FAR_IN_FUTURE',
  'EVENT_TOO_OLD',
  'EVENT_DAY_ARCHIVED',
]);

export interface Rejection {
  code: RejectionCode;
  /** What was wrong, the offending value, and the expected form. */
  reason: string;
  /** Dotted path of the offending field (`data.latency_ms`, `tags[2]`), when one field is to blame. */
  field?: string;
}

export function rejection(code: RejectionCode, reason: string, field?: string): Rejection {
  return field === undefined ? { code, reason } : { code, reason, field };
}

/** A short, printable rendering of a value for messages: JSON, cut at `max` characters. */
export function preview(value: unknown, max = 80): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text =
      typeof value === 'number' || typeof value === 'bigint'
        ? String(value)
        : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}
