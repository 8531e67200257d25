// The event contract (docs: DESIGN.md "Event contract"):
// {"event_type":"llm_request","timestamp":"2026-11-28T10:15:00Z","source":"api-1","id":"…","data":{…}}
// Unknown top-level fields are ignored (stripped); null counts as absent for the optional fields.
import { z } from 'zod';

export const EVENT_TYPE_PATTERN = /^[a-z0-9_.-]+$/;
/** Largest epoch-millisecond value a JavaScript Date can hold. */
export const MAX_EPOCH_MS = 8.64e15;
/** Longest event_type, and longest source or id, in UTF-16 code units (string length). */
export const MAX_EVENT_TYPE_LENGTH = 100;
export const MAX_TEXT_FIELD_LENGTH = 200;

const required =
  (expected: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? 'is required' : expected;

export const EventTypeSchema = z
  .string({ error: required('must be a string such as "llm_request"') })
  .min(1, 'must not be empty; expected e.g. "llm_request"')
  .max(MAX_EVENT_TYPE_LENGTH, `must be at most ${MAX_EVENT_TYPE_LENGTH} characters`)
  .regex(EVENT_TYPE_PATTERN, 'must use only a-z, 0-9, "_", "." and "-" (e.g. "llm_request")');

const TIMESTAMP_FORM =
  'must be an ISO-8601 date-time with a zone, e.g. "2026-11-28T10:15:00Z" or "2026-11-28T11:15:00+01:00", ' +
  'or epoch milliseconds as a non-negative integer';

export const EventTimestampSchema = z.union(
  [
    z.iso.datetime({ offset: true, error: TIMESTAMP_FORM }),
    z
      .number({ error: TIMESTAMP_FORM })
      .int(TIMESTAMP_FORM)
      .min(0, TIMESTAMP_FORM)
      .max(MAX_EPOCH_MS, TIMESTAMP_FORM),
  ],
  { error: TIMESTAMP_FORM },
);

export const EventEnvelopeSchema = z.object(
  {
    event_type: EventTypeSchema,
    timestamp: EventTimestampSchema.nullish().transform((v) => v ?? undefined),
    source: z
      .string({ error: 'must be a string such as "api-1"' })
      .min(1, 'must not be empty; omit it to get "unknown"')
      .max(MAX_TEXT_FIELD_LENGTH, `must be at most ${MAX_TEXT_FIELD_LENGTH} characters`)
      .nullish()
      .transform((v) => v ?? 'unknown'),
    id: z
      .string({ error: 'must be a string (quote numeric ids)' })
      .min(1, 'must not be empty; omit it when there is no id')
      .max(MAX_TEXT_FIELD_LENGTH, `must be at most ${MAX_TEXT_FIELD_LENGTH} characters`)
      .nullish()
      .transform((v) => v ?? undefined),
    data: z.record(z.string(), z.unknown(), {
      error: required('must be a JSON object of fields, e.g. {"latency_ms": 812, "model": "llama-3-70b"}'),
    }),
  },
  { error: 'must be a JSON object like {"event_type": "llm_request", "data": {…}}' },
);

export type EventEnvelopeInput = z.input<typeof EventEnvelopeSchema>;
export type EventEnvelope = z.output<typeof EventEnvelopeSchema>;
