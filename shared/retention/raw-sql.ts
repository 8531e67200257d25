// The retention sweep's statements on raw_events' daily partitions: listing them, their figures as
// PostgreSQL computes them, whether their hours are aggregated, dropping one, and putting one back.
// (Ingest writes raw_events through shared/ingest/raw-sql.ts; restore is the only other writer.)
import type { Queryable } from '../db/index.ts';
import { DAY_MS } from './policy.ts';
import type { RawRow } from './raw-parquet.ts';
import { checkedPartition } from './raw-source.ts';
import { isoMicros, type RawStats } from './raw-stats.ts';

export interface RawPartition {
  name: string;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  start: Date;
  end: Date;
  /** Table, index and TOAST bytes. */
  bytes: number;
}

/** The name of a day's partition (as ensure_raw_partition names it). */
export function partitionName(day: string): string {
  return `raw_events_${day.replaceAll('-', '')}`;
}

/** Every daily partition of raw_events, oldest first. */
export async function listRawPartitions(db: Queryable): Promise<RawPartition[]> {
  const { rows } = await db.query<{ name: string; bytes: number }>(
    `SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'raw_events'::regclass AND c.relname ~ '^raw_events_[0-9]{8}$'
     ORDER BY c.relname`,
  );
  return rows.map((r) => {
    const day = `${r.name.slice(11, 15)}-${r.name.slice(15, 17)}-${r.name.slice(17, 19)}`;
    const start = new Date(`${day}T00:00:00Z`);
    return { name: r.name, day, start, end: new Date(start.getTime() + DAY_MS), bytes: Number(r.bytes) };
  });
}

export async function partitionExists(db: Queryable, day: string): Promise<boolean> {
  const { rows } = await db.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [
    partitionName(day),
  ]);
  return rows[0]?.found === true;
}

export async function countPartitionRows(db: Queryable, partition: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int8 AS n FROM ${checkedPartition(partition)}`,
  );
  return Number(rows[0]?.n ?? 0);
}

/** The partition's figures as PostgreSQL computes them (two scans). */
export async function liveRawStats(db: Queryable, partition: string): Promise<RawStats> {
  const table = checkedPartition(partition);
  const types = await db.query<{ event_type: string; rows: number; min_ts: number; max_ts: number }>(
    `SELECT event_type, count(*)::int8 AS rows,
            (extract(epoch FROM min(ts)) * 1000000)::int8 AS min_ts,
            (extract(epoch FROM max(ts)) * 1000000)::int8 AS max_ts
     FROM ${table} GROUP BY event_type`,
  );
  const metrics = await db.query<{
    event_type: string;
    metric: string;
    count: number;
    sum: number;
    abs_sum: number;
    min: number;
    max: number;
  }>(
    `SELECT r.event_type, m.metric, count(*)::int8 AS count, sum(m.value) AS sum, sum(abs(m.value)) AS abs_sum,
            min(m.value) AS min, max(m.value) AS max
     FROM ${table} r CROSS JOIN LATERAL unnest(r.metric_names, r.metric_values) AS m(metric, value)
     GROUP BY r.event_type, m.metric`,
  );
  const stats: RawStats = { rows: 0, minTs: null, maxTs: null, types: {} };
  for (const t of types.rows.sort((a, b) => (a.event_type < b.event_type ? -1 : 1))) {
    stats.rows += Number(t.rows);
    stats.minTs = stats.minTs === null ? Number(t.min_ts) : Math.min(stats.minTs, Number(t.min_ts));
    stats.maxTs = stats.maxTs === null ? Number(t.max_ts) : Math.max(stats.maxTs, Number(t.max_ts));
    stats.types[t.event_type] = { rows: Number(t.rows), metrics: {} };
  }
  for (const m of metrics.rows.sort((a, b) => (a.metric < b.metric ? -1 : 1))) {
    const type = stats.types[m.event_type];
    if (type === undefined) continue;
    type.metrics[m.metric] = {
      count: Number(m.count),
      sum: Number(m.sum),
      absSum: Number(m.abs_sum),
      min: Number(m.min),
      max: Number(m.max),
    };
  }
  return stats;
}

/**
 * Hours of [start, end) that are not final: their window is dirty (re-opened or never aggregated), or they
 * hold raw events and have no finished window at all. A day with any such hour must keep its raw events.
 */
export async function unfinishedHours(
  db: Queryable,
  partition: string,
  start: Date,
  end: Date,
): Promise<string[]> {
  const { rows } = await db.query<{ hour: Date }>(
    `SELECT h AS hour
     FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 hour', interval '1 hour') AS h
     WHERE EXISTS (SELECT 1 FROM aggregation_windows w
                   WHERE w.level = 'hour' AND w.bucket = h AND (w.done_seq IS NULL OR w.done_seq < w.changed_seq))
        OR (EXISTS (SELECT 1 FROM ${checkedPartition(partition)} r WHERE r.ts >= h AND r.ts < h + interval '1 hour')
            AND NOT EXISTS (SELECT 1 FROM aggregation_windows w
                            WHERE w.level = 'hour' AND w.bucket = h AND w.done_seq >= w.changed_seq))
     ORDER BY h`,
    [start, end],
  );
  return rows.map((r) => r.hour.toISOString());
}

/**
 * The lock ensure_raw_partition takes for a day: held by the transaction that drops or restores the day, so
 * an ingest that would create its partition waits and then sees the outcome.
 */
export async function lockRawDay(db: Queryable, day: string): Promise<void> {
  await db.query(
    `SELECT pg_advisory_xact_lock(hashtext('hxp.raw_partition'), ($1::date - date '2000-01-01'))`,
    [day],
  );
}

/** Blocks writers (readers go on) until the end of the transaction; waits at most `timeoutMs`. */
export async function lockPartitionForDrop(
  db: Queryable,
  partition: string,
  timeoutMs: number,
): Promise<void> {
  await db.query(`SELECT set_config('lock_timeout', $1, true)`, [`${Math.max(1, Math.round(timeoutMs))}ms`]);
  await db.query(`LOCK TABLE ${checkedPartition(partition)} IN SHARE MODE`);
}

/** Detaches and drops the partition (inside the caller's transaction). */
export async function dropPartition(db: Queryable, partition: string): Promise<void> {
  const table = checkedPartition(partition);
  await db.query(`ALTER TABLE raw_events DETACH PARTITION ${table}`);
  await db.query(`DROP TABLE ${table}`);
}

/** Creates the day's partition for a restore (ensure_raw_partition refuses archived days). */
export async function createPartition(db: Queryable, day: string): Promise<string> {
  const table = partitionName(day);
  const start = new Date(`${day}T00:00:00Z`);
  await db.query(
    `CREATE TABLE ${checkedPartition(table)} PARTITION OF raw_events FOR VALUES FROM ('${start.toISOString()}') TO ('${new Date(start.getTime() + DAY_MS).toISOString()}')`,
  );
  return table;
}

/** Inserts archived rows as they were, ingested_at included (one statement per call). */
export async function insertRawRows(db: Queryable, rows: readonly RawRow[]): Promise<void> {
  if (rows.length === 0) return;
  // timestamps as text with all six decimals (exact); data as its JSON text, which jsonb reads back to the
  // same value it was written from
  const json = JSON.stringify(
    rows.map((r) => ({ ...r, ts: isoMicros(r.ts), ingested_at: isoMicros(r.ingested_at) })),
  );
  await db.query(
    `INSERT INTO raw_events (ts, event_type, source, idempotency_key, metric_names, metric_values,
                             dimension_names, dimension_values, data, ingested_at)
     SELECT ts, event_type, source, idempotency_key, metric_names, metric_values,
            dimension_names, dimension_values, data::jsonb, ingested_at
     FROM json_to_recordset($1::json) AS x(
            ts timestamptz, event_type text, source text, idempotency_key text, metric_names text[],
            metric_values double precision[], dimension_names text[], dimension_values text[],
            data text, ingested_at timestamptz)`,
    [json],
  );
}

/**
 * Marks every hour of [start, end) that holds raw events dirty, so aggregation recomputes it — from these raw
 * rows, which no partial holds.
 */
export async function touchRawHours(db: Queryable, partition: string): Promise<number> {
  const { rowCount } = await db.query(
    `INSERT INTO aggregation_windows (level, bucket, changed_seq)
     SELECT 'hour', h, nextval('window_change_seq')
     FROM (SELECT DISTINCT date_trunc('hour', ts, 'UTC') AS h FROM ${checkedPartition(partition)} ORDER BY 1) hours
     ON CONFLICT (level, bucket) DO UPDATE
       SET changed_seq = EXCLUDED.changed_seq, attempts = 0, retry_at = NULL, last_error = NULL, updated_at = now(),
           partials_complete = false`,
  );
  return rowCount ?? 0;
}
