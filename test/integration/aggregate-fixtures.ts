// Test-only helpers of the aggregation suites: store raw events by shared/ingest (partition, event_keys
// dedupe, raw_events rows, their partials, hours marked dirty) or, for the raw path, by plain SQL beside it;
// deterministic data, and both backends.
import { randomUUID } from 'node:crypto';
import type { ExecutionContext } from 'ava';
import test from 'ava';
import type { Database } from '../../shared/db/index.ts';
import {
  runAggregation,
  type AggregationJobOptions,
  type AggregationSummary,
  type JobDeps,
} from '../../shared/jobs/index.ts';
import type { Level } from '../../shared/aggregate/index.ts';
import { storeEvents, type IngestEvent } from '../../shared/ingest/index.ts';
import { freshEmbeddedDatabase, freshPgDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';
import { prng } from '../../runtime/demo/prng.ts';

export interface TestEvent {
  ts: Date | string;
  type?: string;
  source?: string;
  metrics: Record<string, number>;
  dims?: Record<string, string>;
  key?: string;
}

/** Stores events by shared/ingest's store, with their partials; returns how many were new. */
export async function storeTestEvents(db: Database, events: readonly TestEvent[]): Promise<number> {
  const ingest: IngestEvent[] = events.map((e) => ({
    idempotencyKey: e.key ?? randomUUID(),
    eventType: e.type ?? 'llm_request',
    timestamp: new Date(e.ts).toISOString(),
    source: e.source ?? 'api-1',
    metricNames: Object.keys(e.metrics),
    metricValues: Object.values(e.metrics),
    dimensionNames: Object.keys(e.dims ?? {}),
    dimensionValues: Object.values(e.dims ?? {}),
    data: { ...e.metrics, ...e.dims },
  }));
  const result = await db.transaction((tx) => storeEvents(tx, ingest, [], { embedded: db.embedded }));
  return result.stored;
}

/**
 * Stores events by one SQL statement, without partials, as a path other than ingest would (a restore): their
 * hours are marked incomplete, so the hourly job reads their raw rows. Returns how many were new.
 */
export async function storeTestEventsBySql(db: Database, events: readonly TestEvent[]): Promise<number> {
  const rows = events.map((e) => {
    const ts = new Date(e.ts).toISOString();
    return {
      ts,
      event_type: e.type ?? 'llm_request',
      source: e.source ?? 'api-1',
      idempotency_key: e.key ?? randomUUID(),
      metric_names: Object.keys(e.metrics),
      metric_values: Object.values(e.metrics),
      dimension_names: Object.keys(e.dims ?? {}),
      dimension_values: Object.values(e.dims ?? {}),
      data: { ...e.metrics, ...e.dims },
    };
  });
  const days = [...new Set(rows.map((r) => r.ts.slice(0, 10)))];
  return db.transaction(async (tx) => {
    for (const day of days) await tx.query('SELECT ensure_raw_partition($1::date)', [day]);
    const { rows: out } = await tx.query<{ n: number }>(
      `WITH input AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(ts timestamptz, event_type text, source text,
           idempotency_key text, metric_names text[], metric_values float8[], dimension_names text[],
           dimension_values text[], data jsonb)
       ),
       keys AS (
         INSERT INTO event_keys (idempotency_key, ts) SELECT idempotency_key, ts FROM input
         ON CONFLICT DO NOTHING RETURNING idempotency_key
       ),
       raw AS (
         INSERT INTO raw_events (ts, event_type, source, idempotency_key, metric_names, metric_values,
                                 dimension_names, dimension_values, data)
         SELECT i.ts, i.event_type, i.source, i.idempotency_key, i.metric_names, i.metric_values,
                i.dimension_names, i.dimension_values, i.data
         FROM input i JOIN keys USING (idempotency_key)
         RETURNING ts
       ),
       hours AS (
         INSERT INTO aggregation_windows (level, bucket, changed_seq)
         SELECT 'hour', h, nextval('window_change_seq') FROM (SELECT DISTINCT date_trunc('hour', ts, 'UTC') AS h FROM raw) d
         ON CONFLICT (level, bucket) DO UPDATE
           SET changed_seq = EXCLUDED.changed_seq, updated_at = now(), partials_complete = false
       )
       SELECT count(*)::int AS n FROM raw`,
      [JSON.stringify(rows)],
    );
    return out[0]?.n ?? 0;
  });
}

/**
 * Every raw value with its series, written independently of the production statements (the accuracy suites
 * compare stored state with figures computed from it).
 */
export const DIRECT_VALUES = `
  SELECT r.ts, r.event_type, m.metric, 'all' AS dimension, '*' AS dimension_value, m.value
  FROM raw_events r, unnest(r.metric_names, r.metric_values) AS m(metric, value)
  UNION ALL
  SELECT r.ts, r.event_type, m.metric, 'source', r.source, m.value
  FROM raw_events r, unnest(r.metric_names, r.metric_values) AS m(metric, value)
  UNION ALL
  SELECT r.ts, r.event_type, m.metric, d.name, d.value, m.value
  FROM raw_events r, unnest(r.metric_names, r.metric_values) AS m(metric, value),
       unnest(r.dimension_names, r.dimension_values) AS d(name, value)`;

/** Deterministic PRNG (mulberry32). */
export const rng = prng;

/** Standard normal by Box–Muller. */
export function normal(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export const TEST_OPTIONS: AggregationJobOptions = {
  timeZone: 'UTC',
  weekStart: 'monday',
  retries: 3,
  retryDelayMs: 300_000,
  // The job's own default: a run cut by its time limit on a loaded machine would leave windows to a next
  // run the tests do not make. Tests of the limit set a small one themselves.
  timeoutMs: 3_600_000,
};

export function deps(
  db: Database,
  options: Partial<AggregationJobOptions> = {},
  extra: Partial<JobDeps> = {},
): JobDeps {
  return { db, options: { ...TEST_OPTIONS, ...options }, ...extra };
}

/** Runs hour, day, week and month once each, at `now`. */
export async function runAllLevels(d: JobDeps, now: Date): Promise<Record<Level, AggregationSummary>> {
  const out: Partial<Record<Level, AggregationSummary>> = {};
  for (const level of ['hour', 'day', 'week', 'month'] as const) {
    out[level] = await runAggregation(d, { level, trigger: 'manual', now });
  }
  return out as Record<Level, AggregationSummary>;
}

export type Backend = 'postgres' | 'pglite';
export type DbTest = (t: ExecutionContext, db: Database) => Promise<void>;

/** Registers `fn` twice: on a fresh real PostgreSQL database and on a fresh in-memory PGlite. */
export function bothBackends(title: string, fn: DbTest, options: { serial?: boolean } = {}): void {
  const pgTest = serviceTest('postgres');
  (options.serial ? pgTest.serial : pgTest)(`${title} [postgres]`, async (t) => {
    const { db, drop } = await freshPgDatabase();
    t.teardown(drop);
    await fn(t, db);
  });
  (options.serial ? test.serial : test)(`${title} [pglite]`, async (t) => {
    const { db, drop } = await freshEmbeddedDatabase();
    t.teardown(drop);
    await fn(t, db);
  });
}
