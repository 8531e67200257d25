export { ArchivedDays, type RemovedDay } from './archived-days.ts';
export { canonicalJson, eventHash } from './canonical.ts';
export {
  DEFAULT_DIMENSION_KEYS,
  ID_PREFIX,
  idKey,
  normalizeEvent,
  type NormalizeContext,
  type NormalizedEvent,
  type NormalizeLimits,
  type NormalizeResult,
} from './normalize.ts';
export { KNOWN_METRIC_FIELDS } from './metric-fields.ts';
export { parseBatch, type BatchItem } from './parse-batch.ts';
export { REJECTION_CODES, type Rejection, type RejectionCode } from './rejection.ts';
export {
  EVENT_TYPE_PATTERN,
  EventEnvelopeSchema,
  EventTimestampSchema,
  EventTypeSchema,
  type EventEnvelope,
  type EventEnvelopeInput,
} from './schema.ts';
