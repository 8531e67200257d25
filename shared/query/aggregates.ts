// GET /aggregates: one metric or several, one dimension (the total by default), a range of buckets of one
// level, as JSON pages or a streamed CSV page, with validators for conditional requests. Every answer
// comes from the stored views; a page is bounded; an empty first page whose names do not exist is a 400
// that lists the names that do.
import { Readable, pipeline } from 'node:stream';
import { stringify } from 'csv-stringify';
import { parseZonedInstant } from '../aggregate/index.ts';
import { BatchError } from '../errors/index.ts';
import { aggregationJobName } from '../jobs/index.ts';
import {
  absentMetrics,
  aggregatePage,
  lastChangeOf,
  namesAtLevel,
  namesExist,
  pageBoundary,
  type AggregateRow,
  type RowKey,
  type SeriesFilter,
} from './aggregates-sql.ts';
import { cacheHeaders, notModified, validatorsOf } from './cache.ts';
import { decodeCursor, encodeCursor, fingerprint } from './cursor.ts';
import {
  AGGREGATE_FIELDS,
  AggregatesQuerySchema,
  MAX_JSON_PAGE_ROWS,
  type AggregateField,
  type AggregatesQuery,
} from './request.ts';
import type { AggregatesPage, AggregatesRowView } from './answers.ts';
import type { ReadAnswer, ReadContext, ReadRequest } from './types.ts';

/** Jobs whose runs delete aggregates: a range they touched may have lost rows. */
export const DELETING_JOBS: readonly string[] = ['retention-sweep'];
/** Rows per query while a CSV page streams. */
const CSV_CHUNK_ROWS = 2000;

function invalid(field: string, message: string, extra: Record<string, unknown> = {}): BatchError {
  return new BatchError('REQUEST_INVALID', `${field}: ${message}`, { context: { field, ...extra } });
}

function instant(field: 'from' | 'to', text: string | undefined, zone: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseZonedInstant(text, zone);
  if (ms === undefined) {
    throw invalid(
      field,
      `${JSON.stringify(text)} is not a date (2026-11-28), a local date-time (2026-11-28T10:00) or a date-time with offset (2026-11-28T09:00:00Z)`,
    );
  }
  return ms;
}

function wantsCsv(query: AggregatesQuery, headers: ReadRequest['headers']): boolean {
  if (query.format !== undefined) return query.format === 'csv';
  const accept = headers['accept'];
  return (Array.isArray(accept) ? accept.join(',') : (accept ?? '')).toLowerCase().includes('text/csv');
}

export function seriesFilter(query: AggregatesQuery, zone: string): SeriesFilter {
  const fromMs = instant('from', query.from, zone);
  const toMs = instant('to', query.to, zone);
  if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs) {
    throw invalid('to', `must be after from (${query.from}); to is exclusive`);
  }
  let value = query.value;
  if (query.dimension === 'all') {
    if (value !== undefined && value !== '*') {
      throw invalid(
        'value',
        'the total (dimension=all) has only the value "*"; name a dimension such as model',
      );
    }
    value = '*';
  }
  return {
    level: query.level,
    eventType: query.event_type,
    metrics: query.metric,
    dimension: query.dimension,
    value,
    fromMs,
    toMs,
  };
}

export function rowView(row: AggregateRow): AggregatesRowView {
  const view: AggregatesRowView = {
    timestamp: new Date(row.timestamp).toISOString(),
    event_type: row.event_type,
    metric: row.metric,
    dimension: row.dimension,
    dimension_value: row.dimension_value,
  };
  for (const field of AGGREGATE_FIELDS) {
    const value = row[field];
    if (value === undefined) continue;
    (view as unknown as Record<string, number | null>)[field] = value === null ? null : Number(value);
  }
  return view;
}

const keyOf = (row: AggregateRow): RowKey => ({
  timestamp: new Date(row.timestamp).toISOString(),
  eventType: row.event_type,
  metric: row.metric,
  dimensionValue: row.dimension_value,
});

/** The 400 for a first page that came back empty because a name does not exist; undefined if all exist. */
async function unknownName(ctx: ReadContext, filter: SeriesFilter): Promise<BatchError | undefined> {
  const names = await namesAtLevel(ctx.db, filter.level, filter.eventType, filter.dimension);
  const list = (xs: string[]) => (xs.length === 0 ? '(none yet)' : xs.join(', '));
  const at = `at level ${filter.level}`;
  if (filter.eventType !== undefined && !names.eventTypes.includes(filter.eventType)) {
    return invalid(
      'event_type',
      `no aggregates of ${JSON.stringify(filter.eventType)} ${at}; event types: ${list(names.eventTypes)}`,
      {
        known: names.eventTypes,
      },
    );
  }
  const missing = (filter.metrics ?? []).filter((m) => !names.metrics.includes(m));
  if (missing.length > 0) {
    return invalid(
      'metric',
      `no metric ${missing.join(', ')} ${at}${filter.eventType ? ` for ${filter.eventType}` : ''}; metrics: ${list(names.metrics)}`,
      {
        known: names.metrics,
      },
    );
  }
  if (!names.dimensions.includes(filter.dimension)) {
    return invalid(
      'dimension',
      `no dimension ${JSON.stringify(filter.dimension)} ${at}; dimensions: ${list(names.dimensions)}`,
      {
        known: names.dimensions,
      },
    );
  }
  if (filter.value !== undefined && !names.values.includes(filter.value)) {
    return invalid(
      'value',
      `${filter.dimension} has no value ${JSON.stringify(filter.value)} ${at}; values: ${list(names.values)}`,
      {
        known: names.values,
      },
    );
  }
  return undefined;
}

/**
 * Throws the 400 of unknownName when a name of the filter does not exist at its level. For answers that do
 * not read the rows first (a 304, the daily usage), so they never answer for a name that is not there.
 */
export async function refuseUnknownNames(ctx: ReadContext, filter: SeriesFilter): Promise<void> {
  if (await namesExist(ctx.db, filter)) return;
  const problem = await unknownName(ctx, filter);
  if (problem) throw problem;
}

function csvStream(
  ctx: ReadContext,
  filter: SeriesFilter,
  fields: readonly AggregateField[],
  after: RowKey | undefined,
  through: RowKey,
): Readable {
  async function* rows(): AsyncGenerator<AggregatesRowView> {
    let from = after;
    for (;;) {
      const chunk = await aggregatePage(ctx.db, filter, fields, from, CSV_CHUNK_ROWS, through);
      for (const row of chunk) yield rowView(row);
      if (chunk.length < CSV_CHUNK_ROWS) return;
      from = keyOf(chunk[chunk.length - 1] as AggregateRow);
    }
  }
  const columns = ['timestamp', 'event_type', 'metric', 'dimension', 'dimension_value', ...fields];
  const out = stringify({ header: true, columns });
  // pipeline destroys `out` with the error when a query fails mid-page: the client sees a cut response.
  pipeline(Readable.from(rows()), out, () => undefined);
  return out;
}

export async function answerAggregates(ctx: ReadContext, req: ReadRequest): Promise<ReadAnswer> {
  const query = AggregatesQuerySchema.parse(req.query);
  const filter = seriesFilter(query, ctx.timeZone);
  const fields: AggregateField[] = query.fields ?? [...AGGREGATE_FIELDS];
  const csv = wantsCsv(query, req.headers);
  if (!csv && query.limit > MAX_JSON_PAGE_ROWS) {
    throw invalid(
      'limit',
      `at most ${MAX_JSON_PAGE_ROWS} rows per JSON page (CSV pages stream up to 100000); got ${query.limit}`,
    );
  }
  const selects = fingerprint(filter);
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, selects);
  // One unknown name in a list of metrics still leaves a page of the others: look before answering.
  if (after === undefined && filter.metrics !== undefined && filter.metrics.length > 1) {
    const absent = await absentMetrics(ctx.db, filter.level, filter.eventType, filter.metrics);
    if (absent.length > 0)
      throw (
        (await unknownName(ctx, { ...filter, metrics: absent })) ??
        invalid('metric', `no metric ${absent.join(', ')}`)
      );
  }
  const change = await lastChangeOf(
    ctx.db,
    [aggregationJobName(filter.level)],
    filter.fromMs,
    filter.toMs,
    DELETING_JOBS,
  );
  const validators = validatorsOf({ selects, fields, limit: query.limit, cursor: query.cursor, csv }, change);
  const headers = cacheHeaders(validators);
  if (notModified(req.headers, validators)) {
    // "Not modified" only for a request that would answer 200: an unknown name is the same 400 as without
    // the conditional headers. A cursor's names were there when it was given.
    if (after === undefined) await refuseUnknownNames(ctx, filter);
    return { status: 304, headers, body: undefined };
  }

  if (csv) {
    const boundary = await pageBoundary(ctx.db, filter, after, query.limit);
    if (boundary.last === undefined && after === undefined) {
      const problem = await unknownName(ctx, filter);
      if (problem) throw problem;
    }
    if (boundary.more && boundary.last) headers['x-next-cursor'] = encodeCursor(selects, boundary.last);
    headers['content-type'] = 'text/csv; charset=utf-8';
    headers['content-disposition'] = `inline; filename="aggregates-${filter.level}.csv"`;
    const body = boundary.last
      ? csvStream(ctx, filter, fields, after, boundary.last)
      : Readable.from([
          `${['timestamp', 'event_type', 'metric', 'dimension', 'dimension_value', ...fields].join(',')}\n`,
        ]);
    return { status: 200, headers, body };
  }

  const rows = await aggregatePage(ctx.db, filter, fields, after, query.limit + 1);
  if (rows.length === 0 && after === undefined) {
    const problem = await unknownName(ctx, filter);
    if (problem) throw problem;
  }
  const page = rows.slice(0, query.limit);
  const more = rows.length > query.limit;
  const nextCursor = more ? encodeCursor(selects, keyOf(page[page.length - 1] as AggregateRow)) : null;
  if (nextCursor) headers['x-next-cursor'] = nextCursor;
  const body: AggregatesPage = {
    level: filter.level,
    time_zone: ctx.timeZone,
    event_type: filter.eventType ?? null,
    metrics: filter.metrics ? [...filter.metrics] : null,
    dimension: filter.dimension,
    value: query.dimension === 'all' ? null : (filter.value ?? null),
    from: filter.fromMs === undefined ? null : new Date(filter.fromMs).toISOString(),
    to: filter.toMs === undefined ? null : new Date(filter.toMs).toISOString(),
    fields,
    rows: page.map(rowView),
    row_count: page.length,
    next_cursor: nextCursor,
  };
  return { status: 200, headers, body };
}
