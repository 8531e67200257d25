// The envelope of an ordinary event, checked without running the whole zod object schema: ingest sees
// millions of events and the object parse costs more than everything else per event put together.
// This only ever says "accepted, and here is exactly what EventEnvelopeSchema would give" or "ask the
// schema": anything unusual (a null source, a `__proto__` key, a field that would fail) is left to
// EventEnvelopeSchema, which then also writes the message. test/unit/plain-envelope.test.ts holds the
// two to the same answers.
import {
  EVENT_TYPE_PATTERN,
  EventTimestampSchema,
  MAX_EPOCH_MS,
  MAX_EVENT_TYPE_LENGTH,
  MAX_TEXT_FIELD_LENGTH,
  type EventEnvelope,
} from './schema.ts';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A timestamp the schema accepts: epoch milliseconds in range, or an ISO-8601 string with a zone. */
export function plainTimestampValue(value: string | number): boolean {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 && value <= MAX_EPOCH_MS;
  // The string form has many shapes (offsets, fractions, leap days): the schema's own check decides.
  return EventTimestampSchema.safeParse(value).success;
}

function plainTimestamp(value: unknown): { ok: true; value: string | number | undefined } | undefined {
  if (value === undefined) return { ok: true, value: undefined };
  if ((typeof value === 'number' || typeof value === 'string') && plainTimestampValue(value)) {
    return { ok: true, value };
  }
  return undefined;
}

/** A source or id the schema accepts as is. */
export function plainText(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= MAX_TEXT_FIELD_LENGTH;
}

/** An event_type the schema accepts. */
export function plainEventType(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= MAX_EVENT_TYPE_LENGTH &&
    EVENT_TYPE_PATTERN.test(value)
  );
}

/** EventEnvelopeSchema's output for `value`, or undefined when the schema itself must look at it. */
export function plainEnvelope(value: unknown): EventEnvelope | undefined {
  if (!isPlainObject(value)) return undefined;
  const { event_type: eventType, timestamp, source, id, data } = value;
  if (!plainEventType(eventType)) return undefined;
  const ts = plainTimestamp(timestamp);
  if (ts === undefined) return undefined;
  if (source !== undefined && !plainText(source)) return undefined;
  if (id !== undefined && !plainText(id)) return undefined;
  // The schema's record copy drops an own "__proto__" key; such data goes the slow way.
  if (!isPlainObject(data) || Object.hasOwn(data, '__proto__')) return undefined;
  return { event_type: eventType, timestamp: ts.value, source: source ?? 'unknown', id, data };
}
