// Raw input (bytes, text or an object) → a validated NormalizedEvent ready for the store, or a Rejection with
// a reason that names the field, shows the value and says what is expected. Pure: no I/O, the clock comes
// in through the context.
import { isUtf8 } from 'node:buffer';
import type { z } from 'zod';
import type { ArchivedDays } from './archived-days.ts';
import { inferCostOfMetrics, withInferredCost } from '../pricing/infer.ts';
import type { PriceTable } from '../pricing/table.ts';
import { eventHash } from './canonical.ts';
import { nonNumericMetric } from './metric-fields.ts';
import { plainEnvelope } from './plain-envelope.ts';
import { describeBreach, jsonBreach } from '../json/index.ts';
import { fieldPath, preview, rejection, type Rejection } from './rejection.ts';
import { EventEnvelopeSchema, type EventEnvelope } from './schema.ts';

const DAY_MS = 86_400_000;
export const DEFAULT_DIMENSION_KEYS: readonly string[] = Object.freeze(['model']);

export interface NormalizeLimits {
  /** Largest accepted event, in UTF-8 bytes of its JSON (ingestion.maxEventBytes). */
  maxEventBytes: number;
  /** Most top-level fields in `data` (ingestion.maxFields). */
  maxFields: number;
  /** How far after receivedAt a timestamp may lie (ingestion.maxFutureSkewSeconds × 1000). */
  maxFutureSkewMs: number;
  /** Raw retention: events older than this many days before receivedAt are refused (retention.rawDays). */
  rawRetentionDays: number;
}

export interface NormalizeContext {
  /** When ingestion received the event: the last timestamp fallback and the reference for the age checks. */
  receivedAt: Date;
  /** The Kafka record timestamp (a Date or epoch milliseconds), the fallback before receivedAt. */
  recordTimestamp?: Date | number | undefined;
  /**
   * The key of an event without `id`, instead of its content hash; the Kafka paths pass
   * `topic:partition:offset`. An event's own id always wins: it is the event's identity on every path.
   */
  idempotencyKey?: string | undefined;
  limits: NormalizeLimits;
  /** String fields of data aggregated as dimensions. Default ['model']. */
  dimensionKeys?: readonly string[] | undefined;
  /** Days whose raw events are archived and removed: their events are refused (EVENT_DAY_ARCHIVED). */
  archivedDays?: ArchivedDays | undefined;
  /** Model prices: an llm_request that reports no cost gets cost_usd inferred (shared/pricing). */
  prices?: PriceTable | undefined;
}

/** What the price table did for an event: inferred its cost, or found tokens but no price (`unpriced`). */
export type CostInference = 'inferred' | 'unpriced';

export interface NormalizedEvent {
  /** `id:<id>` when the event has an id, else the context's key, else `sha256:<content hash>`. */
  idempotencyKey: string;
  /** The event's own id, when it has one. */
  id: string | undefined;
  eventType: string;
  timestamp: Date;
  /** Where `timestamp` came from: the event, the Kafka record, or the receive time. */
  timestampSource: 'event' | 'record' | 'received';
  source: string;
  /** Sorted; numeric fields of data by key, booleans as 0/1. */
  metricNames: string[];
  metricValues: number[];
  /** Sorted; the configured dimension keys whose value is a string. */
  dimensionNames: string[];
  dimensionValues: string[];
  /** The event's data object as received (strings, nested values and all); an inferred cost is in the metrics only. */
  data: Record<string, unknown>;
  /** Set when the price table applied (context.prices). */
  cost?: CostInference | undefined;
}

export type NormalizeResult = { ok: true; event: NormalizedEvent } | { ok: false; rejection: Rejection };

const fail = (r: Rejection): NormalizeResult => ({ ok: false, rejection: r });
const stripBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

/** The first JSON_LIMITS breach of a value as a Rejection: non-finite numbers, bigints and cycles keep their own codes. */
function limitRejection(value: unknown, detectCycles: boolean): Rejection | undefined {
  const found = jsonBreach(value, { detectCycles });
  if (found === undefined) return undefined;
  const field = fieldPath(found.path) || undefined;
  const reason = describeBreach('event', found);
  if (found.limit === 'finiteNumbers' && typeof found.value === 'number') {
    return rejection('EVENT_NON_FINITE', reason, field);
  }
  if (found.limit === 'finiteNumbers' || found.limit === 'noCycles') {
    return rejection('EVENT_NOT_JSON', reason, field);
  }
  return rejection('EVENT_JSON_LIMIT', `${reason} — flatten or split the event`, field);
}

/** Raw input → a plain JSON value, enforcing JSON-ness, finiteness and the byte limit. */
function decode(raw: unknown, maxEventBytes: number): { value: unknown } | { rejection: Rejection } {
  const tooLarge = (bytes: number) =>
    rejection(
      'EVENT_TOO_LARGE',
      `event is ${bytes} bytes; at most ${maxEventBytes} bytes are accepted (ingestion.maxEventBytes) — split it ` +
        `or drop bulky fields`,
    );
  if (typeof raw === 'string' || Buffer.isBuffer(raw)) {
    const bytes = typeof raw === 'string' ? Buffer.byteLength(raw, 'utf8') : raw.length;
    if (bytes > maxEventBytes) return { rejection: tooLarge(bytes) };
    if (typeof raw !== 'string' && !isUtf8(raw)) {
      return {
        rejection: rejection('EVENT_NOT_JSON', 'event is not valid UTF-8 text; send JSON encoded as UTF-8'),
      };
    }
    const text = stripBom(typeof raw === 'string' ? raw : raw.toString('utf8'));
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return {
        rejection: rejection(
          'EVENT_NOT_JSON',
          `event is not valid JSON (${(error as Error).message}): ${preview(text)}; expected one JSON object like ` +
            `{"event_type": "llm_request", "data": {"latency_ms": 812}}`,
        ),
      };
    }
    // JSON.parse output has no bigints or cycles; a number literal beyond float8 (1e999) or a breach can be bad.
    const bad = limitRejection(value, false);
    return bad ? { rejection: bad } : { value };
  }
  const bad = limitRejection(raw, true);
  if (bad) return { rejection: bad };
  const text = JSON.stringify(raw) as string | undefined;
  if (text === undefined) {
    return { rejection: rejection('EVENT_NOT_JSON', `event is ${preview(raw)}, which has no JSON form`) };
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxEventBytes) return { rejection: tooLarge(bytes) };
  return { value: JSON.parse(text) as unknown };
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function schemaRejection(value: unknown, error: z.ZodError): Rejection {
  const issue = error.issues[0] as z.core.$ZodIssue;
  const field = fieldPath(issue.path);
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem(s))` : '';
  const got = preview(valueAt(value, issue.path));
  if (field === '') return rejection('EVENT_SCHEMA', `event ${issue.message}; got ${got}${more}`);
  return rejection('EVENT_SCHEMA', `event field "${field}" ${issue.message}; got ${got}${more}`, field);
}

function resolveTimestamp(envelope: EventEnvelope, context: NormalizeContext) {
  if (envelope.timestamp !== undefined) {
    return { timestamp: new Date(envelope.timestamp), from: 'event' as const };
  }
  const record = context.recordTimestamp;
  if (record !== undefined) {
    const timestamp = new Date(typeof record === 'number' ? record : record.getTime());
    if (!Number.isNaN(timestamp.getTime())) return { timestamp, from: 'record' as const };
  }
  return { timestamp: new Date(context.receivedAt), from: 'received' as const };
}

function describeDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return `${Math.round(ms / 1000)}s`;
  if (minutes < 120) return `${minutes} min`;
  const hours = ms / 3_600_000;
  return hours < 48 ? `${hours.toFixed(1)} h` : `${(hours / 24).toFixed(1)} days`;
}

/** The instants an event may carry: from the raw retention before receivedAt to the future skew after it. */
export function acceptedTimeRange(context: NormalizeContext): { earliest: number; latest: number } {
  const received = context.receivedAt.getTime();
  return {
    earliest: received - context.limits.rawRetentionDays * DAY_MS,
    latest: received + context.limits.maxFutureSkewMs,
  };
}

function checkAge(
  envelope: EventEnvelope,
  resolved: { timestamp: Date; from: 'event' | 'record' | 'received' },
  context: NormalizeContext,
): Rejection | undefined {
  const { limits } = context;
  const received = context.receivedAt.getTime();
  const at = resolved.timestamp.getTime();
  const { earliest, latest } = acceptedTimeRange(context);
  const archived = context.archivedDays?.dayOf(at);
  if (at <= latest && at >= earliest && archived === undefined) return undefined;
  // Only a refused event pays for the message.
  const what =
    resolved.from === 'event'
      ? `event field "timestamp" (${preview(envelope.timestamp)} = ${resolved.timestamp.toISOString()})`
      : `the Kafka record timestamp (${resolved.timestamp.toISOString()}; the event has no "timestamp")`;
  const field = resolved.from === 'event' ? 'timestamp' : undefined;
  if (archived !== undefined) {
    const { day } = archived;
    // A restore is no way to store it (archived-days.ts says why), so the reason does not offer one.
    const final =
      'events for it are no longer stored (its aggregates are final; this dead letter keeps the event)';
    return rejection(
      'EVENT_DAY_ARCHIVED',
      archived.restored
        ? `${what} falls on ${day}, a day the retention sweep archived (raw/date=${day}/) that is restored for ` +
            `reading until it is dropped again; ${final}`
        : archived.archived
          ? `${what} falls on ${day}, a day whose raw events are archived (raw/date=${day}/) and no longer in the ` +
            `database; ${final}. Restoring the day (npm run restore -- --from ${day}) brings its archived ` +
            'events back to read and recompute, not to take new ones'
          : `${what} falls on ${day}, a day whose raw events the retention sweep deleted (archival was off); ` +
            'events for it can no longer be stored',
      field,
    );
  }
  if (at > latest) {
    return rejection(
      'EVENT_TOO_FAR_IN_FUTURE',
      `${what} is ${describeDuration(at - received)} after the event was received (${context.receivedAt.toISOString()}); ` +
        `at most ${describeDuration(limits.maxFutureSkewMs)} ahead is accepted — check the producer's clock and ` +
        `that the timestamp carries the right zone`,
      field,
    );
  }
  if (at < earliest) {
    const seconds =
      resolved.from === 'event' && typeof envelope.timestamp === 'number' && envelope.timestamp < 1e11
        ? ' — the number looks like epoch seconds; send epoch milliseconds'
        : '';
    return rejection(
      'EVENT_TOO_OLD',
      `${what} is older than the ${limits.rawRetentionDays}-day raw retention; the earliest accepted time is ` +
        `${new Date(earliest).toISOString()}${seconds}`,
      field,
    );
  }
  return undefined;
}

/** What an id's idempotency key starts with. */
export const ID_PREFIX = 'id:';

/** The key of an event with an id, whichever path it came by. */
export function idKey(id: string): string {
  return ID_PREFIX + id;
}

function idempotencyKeyOf(envelope: EventEnvelope, context: NormalizeContext): string {
  if (envelope.id !== undefined) return idKey(envelope.id);
  if (context.idempotencyKey) return context.idempotencyKey;
  // The hash covers what is stored: type, source (after its default), the timestamp as an instant (so
  // "10:15:00Z" and "11:15:00+01:00" agree) when the event has one, and data. Fallback timestamps are
  // deliberately left out, so a retried event without timestamp or id is still recognised.
  const hashed: Record<string, unknown> = {
    event_type: envelope.event_type,
    source: envelope.source,
    data: envelope.data,
  };
  if (envelope.timestamp !== undefined) hashed.timestamp = new Date(envelope.timestamp).toISOString();
  return `sha256:${eventHash(hashed)}`;
}

// Callers pass the same configured array for every event; build its Set once.
const dimensionKeySets = new WeakMap<readonly string[], ReadonlySet<string>>();
export function dimensionKeySet(keys: readonly string[]): ReadonlySet<string> {
  let set = dimensionKeySets.get(keys);
  if (set === undefined) dimensionKeySets.set(keys, (set = new Set(keys)));
  return set;
}

/** Validates and normalises one event. Never throws for bad input; throws TypeError for a bad context. */
export function normalizeEvent(raw: unknown, context: NormalizeContext): NormalizeResult {
  if (!(context.receivedAt instanceof Date) || Number.isNaN(context.receivedAt.getTime())) {
    throw new TypeError(
      `normalizeEvent: context.receivedAt must be a valid Date; got ${String(context.receivedAt)}`,
    );
  }
  const decoded = decode(raw, context.limits.maxEventBytes);
  if ('rejection' in decoded) return fail(decoded.rejection);

  let envelope = plainEnvelope(decoded.value);
  if (envelope === undefined) {
    const parsed = EventEnvelopeSchema.safeParse(decoded.value);
    if (!parsed.success) return fail(schemaRejection(decoded.value, parsed.error));
    envelope = parsed.data;
  }

  const fieldCount = Object.keys(envelope.data).length;
  if (fieldCount > context.limits.maxFields) {
    return fail(
      rejection(
        'EVENT_TOO_MANY_FIELDS',
        `event field "data" has ${fieldCount} fields; at most ${context.limits.maxFields} are accepted ` +
          `(ingestion.maxFields) — split the event`,
        'data',
      ),
    );
  }

  const notNumber = nonNumericMetric(envelope.event_type, envelope.data);
  if (notNumber) return fail(notNumber);

  const resolved = resolveTimestamp(envelope, context);
  const tooFar = checkAge(envelope, resolved, context);
  if (tooFar) return fail(tooFar);

  const dimensionKeys = dimensionKeySet(context.dimensionKeys ?? DEFAULT_DIMENSION_KEYS);
  const metricNames: string[] = [];
  const metricValues: number[] = [];
  const dimensionNames: string[] = [];
  const dimensionValues: string[] = [];
  for (const key of Object.keys(envelope.data).sort()) {
    const value = envelope.data[key];
    if (typeof value === 'number') {
      metricNames.push(key);
      metricValues.push(value);
    } else if (typeof value === 'boolean') {
      metricNames.push(key);
      metricValues.push(value ? 1 : 0);
    } else if (typeof value === 'string' && dimensionKeys.has(key)) {
      dimensionNames.push(key);
      dimensionValues.push(value);
    }
  }

  let cost: CostInference | undefined;
  if (context.prices) {
    const model = envelope.data.model;
    const outcome = inferCostOfMetrics(
      context.prices,
      envelope.event_type,
      resolved.timestamp.getTime(),
      typeof model === 'string' ? model : undefined,
      metricNames,
      (i) => metricValues[i] as number,
    );
    if (outcome.kind === 'inferred') withInferredCost(metricNames, metricValues, outcome.costUsd, (n) => n);
    if (outcome.kind !== 'none') cost = outcome.kind;
  }

  return {
    ok: true,
    event: {
      idempotencyKey: idempotencyKeyOf(envelope, context),
      id: envelope.id,
      eventType: envelope.event_type,
      timestamp: resolved.timestamp,
      timestampSource: resolved.from,
      source: envelope.source,
      metricNames,
      metricValues,
      dimensionNames,
      dimensionValues,
      data: envelope.data,
      ...(cost ? { cost } : {}),
    },
  };
}
