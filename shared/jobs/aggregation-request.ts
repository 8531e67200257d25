// The one parser of an aggregation request — a cron tick, an HTTP call, a Kafka event, or a backfill
// `{"from","to"}` — shared by the aggregate-* handlers.
//
// A backfill bound is a date-time with a zone ("2026-11-01T00:00:00Z", an instant) or a calendar date
// ("2026-11-01", a whole day in the configured zone, time.zone). `from` is where the range starts;
// `to` is exclusive as an instant and inclusive as a date: {"from":"2026-11-01","to":"2026-11-28"} is
// 1 Nov 00:00 up to 29 Nov 00:00 local time — all of 1–28 November.
import { z } from 'zod';
import { localDateStart } from '../aggregate/local-time.ts';
import { BatchError } from '../errors/index.ts';
import { jsonBody } from '../http/json-body.ts';
import type { Trigger } from './ledger.ts';

const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/**
 * The longest backfill one request takes. {"from":"0001-01-01T00:00:00Z","to":"9999-01-01T00:00:00Z"} was
 * accepted and kept aggregate-hourly busy on ~70 million hour windows, answering no other request; ten
 * years is 87 600 hours, and a longer history is backfilled in several requests.
 */
export const MAX_BACKFILL_DAYS = 3660;

const Bound = z.union([z.iso.datetime({ offset: true }), z.iso.date()], {
  error:
    'must be a date ("2026-11-01", a whole day in the configured time zone) or a date-time with a zone ("2026-11-01T00:00:00Z")',
});

export const AggregationBody = z.object({ from: Bound, to: Bound }).strict().optional();

export interface AggregationRequest {
  trigger: Trigger;
  /** Instants (ISO, UTC): the range [from, to) that the backfill recomputes. */
  from?: string;
  to?: string;
}

interface RequestLike {
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

function header(headers: RequestLike['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

const EXPECTED = 'send nothing, or {"from":"2026-11-01","to":"2026-11-28"} to backfill';

/** Local midnight starting `date` (YYYY-MM-DD) in `zone`, as an instant: where its day's buckets start. */
export function startOfLocalDay(date: string, zone: string): Date {
  return new Date(localDateStart(date, zone));
}

/** A backfill bound as an instant: a date-time as written; a date as local midnight (the day after, for `to`). */
export function boundInstant(value: string, zone: string, edge: 'from' | 'to'): Date {
  if (!DATE.test(value)) return new Date(value);
  if (edge === 'from') return startOfLocalDay(value, zone);
  const next = new Date(Date.parse(`${value}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
  return startOfLocalDay(next, zone);
}

/**
 * `{"from","to"}` → backfill; an empty body with `X-Connector: cron-connector` → a cron tick; a Kafka
 * connector delivery (`X-Topic`) → kafka; anything else → an HTTP call. Dates are read in `timeZone`.
 * Throws a ZodError (→ 400) on a bad body, REQUEST_INVALID when `from` is not before `to`.
 */
export function parseAggregationRequest(event: RequestLike, timeZone = 'UTC'): AggregationRequest {
  const raw = jsonBody(event.body, EXPECTED);
  const body = AggregationBody.parse(
    raw === null || (typeof raw === 'object' && Object.keys(raw).length === 0) ? undefined : raw,
  );
  if (body) {
    const from = boundInstant(body.from, timeZone, 'from');
    const to = boundInstant(body.to, timeZone, 'to');
    if (from >= to) {
      throw new BatchError(
        'REQUEST_INVALID',
        `"from" (${body.from} = ${from.toISOString()}) must be before "to" (${body.to} = ${to.toISOString()}); ` +
          'a date-time "to" is exclusive, a date "to" includes that whole day',
        { context: { from: body.from, to: body.to, timeZone } },
      );
    }
    const days = (to.getTime() - from.getTime()) / DAY_MS;
    if (days > MAX_BACKFILL_DAYS) {
      throw new BatchError(
        'REQUEST_INVALID',
        `"from" (${body.from}) to "to" (${body.to}) spans ${Math.ceil(days)} days; backfill at most ` +
          `${MAX_BACKFILL_DAYS} (ten years) per request, in several requests for more`,
        { context: { field: 'to', from: body.from, to: body.to } },
      );
    }
    return { trigger: 'backfill', from: from.toISOString(), to: to.toISOString() };
  }
  if (header(event.headers, 'x-connector') === 'cron-connector') return { trigger: 'cron' };
  if (header(event.headers, 'x-topic') && header(event.headers, 'x-kafka-partition') !== undefined)
    return { trigger: 'kafka' };
  return { trigger: 'http' };
}
