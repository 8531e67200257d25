// The read side's SQL: every statement reads the stored views (aggregations and its per-level views) or
// the runs ledger, one named parameterised function each. Pages are keyset pages in the order of
// aggregate_state's primary key (level, bucket, event_type, metric, dimension, dimension_value), so a
// page is an index range scan that stops at its LIMIT, whatever the page number.
import type { Queryable } from '../db/index.ts';
import type { Level } from '../aggregate/index.ts';
import { AGGREGATE_FIELDS, type AggregateField } from './request.ts';

export interface SeriesFilter {
  level: Level;
  eventType: string | undefined;
  metrics: readonly string[] | undefined;
  dimension: string;
  value: string | undefined;
  fromMs: number | undefined;
  toMs: number | undefined;
}

/** The sort key of a row: where the next page starts after it. */
export interface RowKey {
  timestamp: string;
  eventType: string;
  metric: string;
  dimensionValue: string;
}

export interface AggregateRow {
  timestamp: Date;
  event_type: string;
  metric: string;
  dimension: string;
  dimension_value: string;
  count?: string | number;
  sum?: number;
  min?: number;
  max?: number;
  avg?: number;
  stddev?: number | null;
  p50?: number | null;
  p95?: number | null;
  p99?: number | null;
}

const date = (ms: number | undefined): Date | null => (ms === undefined ? null : new Date(ms));

const KEY = '"timestamp", event_type, metric, dimension, dimension_value';

/**
 * The rows of `filter` after the key in $8–$11 (none: from the start) and, when $13–$16 are set, up to
 * that key, in key order, at most $12. The dimension sits between metric and value in the key; it is
 * fixed by the filter, so comparing the whole key keeps the index order.
 */
function pageQuery(columns: string): string {
  return `SELECT ${columns}
       FROM aggregations
      WHERE level = $1
        AND ($2::text IS NULL OR event_type = $2)
        AND ($3::text[] IS NULL OR metric = ANY($3::text[]))
        AND dimension = $4
        AND ($5::text IS NULL OR dimension_value = $5)
        AND ($6::timestamptz IS NULL OR "timestamp" >= $6)
        AND ($7::timestamptz IS NULL OR "timestamp" < $7)
        AND ($8::timestamptz IS NULL OR (${KEY}) > ($8, $9, $10, $4, $11))
        AND ($13::timestamptz IS NULL OR (${KEY}) <= ($13, $14, $15, $4, $16))
      ORDER BY ${KEY}
      LIMIT $12`;
}

function pageValues(
  filter: SeriesFilter,
  after: RowKey | undefined,
  limit: number,
  through: RowKey | undefined,
): unknown[] {
  return [
    filter.level,
    filter.eventType ?? null,
    filter.metrics ?? null,
    filter.dimension,
    filter.value ?? null,
    date(filter.fromMs),
    date(filter.toMs),
    after ? new Date(after.timestamp) : null,
    after?.eventType ?? null,
    after?.metric ?? null,
    after?.dimensionValue ?? null,
    limit,
    through ? new Date(through.timestamp) : null,
    through?.eventType ?? null,
    through?.metric ?? null,
    through?.dimensionValue ?? null,
  ];
}

/** Up to `limit` rows after `after` (undefined: from the start) and up to `through`, in key order. */
export async function aggregatePage(
  db: Queryable,
  filter: SeriesFilter,
  fields: readonly AggregateField[],
  after: RowKey | undefined,
  limit: number,
  through?: RowKey,
): Promise<AggregateRow[]> {
  // Column names come from the fixed list, never from the request text.
  const columns = [KEY, ...AGGREGATE_FIELDS.filter((f) => fields.includes(f))].join(', ');
  const { rows } = await db.query<AggregateRow>(
    pageQuery(columns),
    pageValues(filter, after, limit, through),
  );
  return rows;
}

interface KeyRow {
  timestamp: Date;
  event_type: string;
  metric: string;
  dimension_value: string;
  total: string | number;
}

const keyOf = (r: KeyRow): RowKey => ({
  timestamp: new Date(r.timestamp).toISOString(),
  eventType: r.event_type,
  metric: r.metric,
  dimensionValue: r.dimension_value,
});

/**
 * The key of the last row of a page of `n` rows after `after`, and whether a row follows the page. The
 * streamed CSV page reads it first: its next cursor goes in a header, before the rows.
 */
export async function pageBoundary(
  db: Queryable,
  filter: SeriesFilter,
  after: RowKey | undefined,
  n: number,
): Promise<{ last: RowKey | undefined; more: boolean }> {
  const { rows } = await db.query<KeyRow>(
    `SELECT "timestamp", event_type, metric, dimension_value, count(*) OVER () AS total
       FROM (${pageQuery(KEY)}) AS page
      ORDER BY ${KEY.split(', ')
        .map((c) => `${c} DESC`)
        .join(', ')}
      LIMIT 2`,
    pageValues(filter, after, n + 1, undefined),
  );
  const [lastRow, beforeLast] = rows;
  if (!lastRow) return { last: undefined, more: false };
  const more = Number(lastRow.total) > n;
  return { last: keyOf(more ? (beforeLast as KeyRow) : lastRow), more };
}

/** The metrics of `metrics` with no row at the level (for the event type, when given). */
export async function absentMetrics(
  db: Queryable,
  level: Level,
  eventType: string | undefined,
  metrics: readonly string[],
): Promise<string[]> {
  const { rows } = await db.query<{ metric: string }>(
    `SELECT m.metric FROM unnest($3::text[]) AS m(metric)
      WHERE NOT EXISTS (SELECT 1 FROM aggregations a
                         WHERE a.level = $1 AND ($2::text IS NULL OR a.event_type = $2)
                           AND a.metric = m.metric AND a.dimension = 'all')`,
    [level, eventType ?? null, metrics],
  );
  return rows.map((r) => r.metric);
}

/**
 * Whether a row at the level has every name of the filter (event type, metrics, dimension, value), over any
 * time: what a 304 needs before it says an answer is unchanged. It stops at the first matching row of the
 * level (the key leads with level, bucket, so it is a scan of the level until then): quick for names that
 * exist, a scan of the level for one that does not — as namesAtLevel.
 */
export async function namesExist(db: Queryable, filter: SeriesFilter): Promise<boolean> {
  const { rows } = await db.query<{ found: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM aggregations
                     WHERE level = $1 AND ($2::text IS NULL OR event_type = $2)
                       AND ($3::text[] IS NULL OR metric = ANY($3::text[]))
                       AND dimension = $4 AND ($5::text IS NULL OR dimension_value = $5)) AS found`,
    [filter.level, filter.eventType ?? null, filter.metrics ?? null, filter.dimension, filter.value ?? null],
  );
  return rows[0]?.found === true;
}

export interface NamesAtLevel {
  eventTypes: string[];
  metrics: string[];
  dimensions: string[];
  values: string[];
}

/**
 * What exists at a level, narrowed as far as the request's names exist: the event types; the metrics and
 * dimensions of the requested type; the values of the requested dimension. Only asked when a first
 * page is empty, to say which name was unknown.
 */
export async function namesAtLevel(
  db: Queryable,
  level: Level,
  eventType: string | undefined,
  dimension: string,
): Promise<NamesAtLevel> {
  const { rows } = await db.query<{ kind: string; name: string }>(
    `SELECT DISTINCT 'event_type' AS kind, event_type AS name FROM aggregations WHERE level = $1
     UNION ALL
     SELECT DISTINCT 'metric', metric FROM aggregations
      WHERE level = $1 AND ($2::text IS NULL OR event_type = $2) AND dimension = 'all'
     UNION ALL
     SELECT DISTINCT 'dimension', dimension FROM aggregations
      WHERE level = $1 AND ($2::text IS NULL OR event_type = $2)
     UNION ALL
     SELECT DISTINCT 'value', dimension_value FROM aggregations
      WHERE level = $1 AND ($2::text IS NULL OR event_type = $2) AND dimension = $3
     ORDER BY 1, 2`,
    [level, eventType ?? null, dimension],
  );
  const of = (kind: string) => rows.filter((r) => r.kind === kind).map((r) => r.name);
  return {
    eventTypes: of('event_type'),
    metrics: of('metric'),
    dimensions: of('dimension'),
    values: of('value'),
  };
}

export interface CatalogueRow {
  level: Level;
  event_type: string;
  name: string;
  value: string | null;
  first: Date;
  last: Date;
}

/** Per level: every (event type, metric) of the totals, and every (event type, dimension, value). */
export async function catalogueRows(db: Queryable): Promise<CatalogueRow[]> {
  const { rows } = await db.query<CatalogueRow>(
    `SELECT level, event_type, metric AS name, NULL::text AS value, min("timestamp") AS first, max("timestamp") AS last
       FROM aggregations WHERE dimension = 'all'
      GROUP BY level, event_type, metric
     UNION ALL
     SELECT level, event_type, dimension, dimension_value, min("timestamp"), max("timestamp")
       FROM aggregations WHERE dimension <> 'all'
      GROUP BY level, event_type, dimension, dimension_value
     ORDER BY 2, 3, 4 NULLS FIRST, 1`,
  );
  return rows;
}

export interface UsageRow {
  timestamp: Date;
  dimension: string;
  dimension_value: string;
  metric: string;
  count: string | number;
  sum: number;
}

/** Daily rows of one event type, every metric, for the totals and per model. */
export async function dailyUsageRows(
  db: Queryable,
  eventType: string,
  fromMs: number,
  toMs: number,
): Promise<UsageRow[]> {
  const { rows } = await db.query<UsageRow>(
    `SELECT "timestamp", dimension, dimension_value, metric, count, sum
       FROM daily_aggregations
      WHERE event_type = $1 AND dimension IN ('all', 'model')
        AND "timestamp" >= $2 AND "timestamp" < $3`,
    [eventType, new Date(fromMs), new Date(toMs)],
  );
  return rows;
}

export interface WaitingWindow {
  level: 'hour' | 'day';
  bucket: Date;
}

/**
 * Hour and day windows not aggregated as they stand (never done, changed by late events since, retrying or
 * failed) whose bucket starts in [from − 1 day, to): what keeps a day of [from, to) from being complete.
 */
export async function waitingWindows(db: Queryable, fromMs: number, toMs: number): Promise<WaitingWindow[]> {
  const { rows } = await db.query<WaitingWindow>(
    `SELECT level, bucket FROM aggregation_windows
      WHERE level IN ('hour', 'day') AND (done_seq IS NULL OR done_seq < changed_seq)
        AND bucket >= $1::timestamptz - interval '1 day' AND bucket < $2`,
    [new Date(fromMs), new Date(toMs)],
  );
  return rows;
}

export interface LastChange {
  runId: number | null;
  finishedAt: Date | null;
}

/**
 * The newest succeeded run that may have changed the rows of a level in [from, to): a window run of the
 * level's aggregation job overlapping the range, or a run of a job that deletes aggregates (retention).
 * `level` undefined: any aggregation window.
 */
export async function lastChangeOf(
  db: Queryable,
  jobs: readonly string[],
  fromMs: number | undefined,
  toMs: number | undefined,
  deletingJobs: readonly string[],
): Promise<LastChange> {
  const { rows } = await db.query<{ id: string | null; finished_at: Date | null }>(
    `SELECT max(id) AS id, max(finished_at) AS finished_at
       FROM runs
      WHERE status = 'succeeded'
        AND ((job = ANY($1::text[]) AND window_start IS NOT NULL
              AND ($2::timestamptz IS NULL OR window_end IS NULL OR window_end > $2)
              AND ($3::timestamptz IS NULL OR window_start < $3))
             OR job = ANY($4::text[]))`,
    [jobs, date(fromMs), date(toMs), deletingJobs],
  );
  const row = rows[0];
  return {
    runId: row?.id === null || row?.id === undefined ? null : Number(row.id),
    finishedAt: row?.finished_at ?? null,
  };
}
