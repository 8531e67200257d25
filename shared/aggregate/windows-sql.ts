// Statements on aggregation_windows: the change tracking and retry state of each (level, bucket).
// A window is dirty while done_seq IS NULL OR done_seq < changed_seq.
import type { Queryable } from '../db/index.ts';
import type { CalendarOptions, Level } from './levels.ts';
import { levelBelow } from './levels.ts';

export interface DueWindow {
  bucket: Date;
  end: Date;
  changedSeq: number;
  /** Failed attempts so far (0 for a window that has not failed since it last succeeded). */
  attempts: number;
}

const DIRTY = '(w.done_seq IS NULL OR w.done_seq < w.changed_seq)';

/**
 * Closed, dirty windows of `level` that may be attempted now, oldest first: not waiting for a retry, not out
 * of retries, and (for rollups) with no window below them still to do — a day waits for its dirty hours
 * unless those have exhausted their retries, so a closed day is not published without its last hour.
 */
export async function listDueWindows(
  db: Queryable,
  level: Level,
  now: Date,
  retries: number,
  calendar: CalendarOptions,
): Promise<DueWindow[]> {
  const below = levelBelow(level);
  // A day starting inside a UTC hour (a half-hour zone) also waits for that hour: it holds the day's first
  // quarters.
  const firstBelow = below === 'hour' ? `date_trunc('hour', w.bucket, 'UTC')` : 'w.bucket';
  const waitForBelow = below
    ? `AND NOT EXISTS (
         SELECT 1 FROM aggregation_windows b
         WHERE b.level = '${below}' AND b.bucket >= ${firstBelow} AND b.bucket < agg_bucket_end(w.level, w.bucket, $4)
           AND (b.done_seq IS NULL OR b.done_seq < b.changed_seq) AND b.attempts <= $3)`
    : '';
  const { rows } = await db.query<{ bucket: Date; end: Date; changed_seq: number; attempts: number }>(
    `SELECT w.bucket, agg_bucket_end(w.level, w.bucket, $4) AS end, w.changed_seq, w.attempts
     FROM aggregation_windows w
     WHERE w.level = $1 AND ${DIRTY}
       AND agg_bucket_end(w.level, w.bucket, $4) <= $2
       AND (w.retry_at IS NULL OR w.retry_at <= $2)
       AND w.attempts <= $3
       ${waitForBelow}
     ORDER BY w.bucket`,
    [level, now, retries, calendar.timeZone],
  );
  return rows.map((r) => ({
    bucket: r.bucket,
    end: r.end,
    changedSeq: Number(r.changed_seq),
    attempts: r.attempts,
  }));
}

/**
 * The last instant of a stale window (level $1, zone $2): its start plus the level's length in wall time. Not
 * agg_bucket_end, which ends a window of the current calendar at the next start and would cut a window of
 * another zone short (a UTC day read in Asia/Kolkata would end at 18:30Z, not at midnight UTC).
 */
const STALE_WINDOW_LAST = `((stale.bucket AT TIME ZONE $2) + CASE $1 WHEN 'day' THEN interval '1 day'
  WHEN 'week' THEN interval '7 days' ELSE interval '1 month' END) AT TIME ZONE $2 - interval '1 microsecond'`;

/**
 * Dirty windows of a rollup level whose bucket is not a bucket start of `calendar` (left by an earlier time
 * zone or week start) are replaced by the windows of the current calendar holding their first and last
 * instant, so their data is rolled up where the calendar now cuts it instead of under a bucket the calendar
 * does not have. Done windows keep their stored state. Returns how many stale windows were replaced.
 */
export async function rekeyStaleWindows(
  db: Queryable,
  level: Level,
  calendar: CalendarOptions,
): Promise<number> {
  if (level === 'hour') return 0;
  const { rows } = await db.query<{ stale: number }>(
    `WITH stale AS (
       DELETE FROM aggregation_windows w
       WHERE w.level = $1 AND ${DIRTY} AND agg_bucket_start($1, w.bucket, $2, $3) <> w.bucket
       RETURNING w.bucket
     ),
     current AS (
       SELECT DISTINCT agg_bucket_start($1, t.at, $2, $3) AS bucket
       FROM stale CROSS JOIN LATERAL (VALUES (stale.bucket), (${STALE_WINDOW_LAST})) AS t(at)
     ),
     marked AS (
       INSERT INTO aggregation_windows (level, bucket, changed_seq)
       SELECT $1, c.bucket, nextval('window_change_seq') FROM current c ORDER BY c.bucket
       ON CONFLICT (level, bucket) DO UPDATE
         SET changed_seq = EXCLUDED.changed_seq, attempts = 0, retry_at = NULL, last_error = NULL, updated_at = now()
     )
     SELECT count(*)::int AS stale FROM stale`,
    [level, calendar.timeZone, calendar.weekStart],
  );
  return rows[0]?.stale ?? 0;
}

/** The oldest dirty window of `level` (any state), to bound the time-zone check; undefined if none. */
export async function oldestDirtyBucket(db: Queryable, level: Level): Promise<Date | undefined> {
  const { rows } = await db.query<{ bucket: Date | null }>(
    `SELECT min(w.bucket) AS bucket FROM aggregation_windows w WHERE w.level = $1 AND ${DIRTY}`,
    [level],
  );
  return rows[0]?.bucket ?? undefined;
}

/**
 * The changed_seq of each window as this transaction sees it at its start, in the order of `buckets`; a window
 * without a row (a direct call) gets one first, so there is a changed_seq to record.
 */
export async function readChangedSeqs(
  db: Queryable,
  level: Level,
  buckets: readonly Date[],
): Promise<number[]> {
  const { rows } = await db.query<{ changed_seq: string }>(
    `WITH missing AS (
       INSERT INTO aggregation_windows (level, bucket, changed_seq)
       SELECT $1, b.bucket, nextval('window_change_seq')
       FROM unnest($2::timestamptz[]) AS b(bucket)
       WHERE NOT EXISTS (SELECT 1 FROM aggregation_windows w WHERE w.level = $1 AND w.bucket = b.bucket)
       ORDER BY b.bucket
       ON CONFLICT (level, bucket) DO NOTHING
       RETURNING bucket, changed_seq
     )
     SELECT coalesce(w.changed_seq, m.changed_seq, 0) AS changed_seq
     FROM unnest($2::timestamptz[]) WITH ORDINALITY AS b(bucket, o)
     LEFT JOIN aggregation_windows w ON w.level = $1 AND w.bucket = b.bucket
     LEFT JOIN missing m ON m.bucket = b.bucket
     ORDER BY b.o`,
    [level, buckets],
  );
  return rows.map((r) => Number(r.changed_seq));
}

/**
 * Records success of each window — done up to its `seqs` entry (never backwards), retry state cleared, and its
 * state stored again (no longer state_removed) — and re-opens the windows of each level in `parents` that hold
 * part of one: those containing its first and its last instant (an hour in which a local day starts belongs to
 * two days). One statement for all of them; the parents are locked in one order (level, bucket), so
 * transactions re-opening the same ones never deadlock.
 */
export async function markWindowsDone(
  db: Queryable,
  level: Level,
  buckets: readonly Date[],
  seqs: readonly number[],
  parents: readonly Level[],
  calendar: CalendarOptions,
): Promise<void> {
  await db.query(
    `WITH w AS (SELECT * FROM unnest($2::timestamptz[], $3::bigint[]) AS w(bucket, seq)),
     done AS (
       UPDATE aggregation_windows a
       SET done_seq = greatest(coalesce(a.done_seq, 0), w.seq), attempts = 0, retry_at = NULL, last_error = NULL,
           state_removed = false, updated_at = now()
       FROM w WHERE a.level = $1 AND a.bucket = w.bucket
     )
     INSERT INTO aggregation_windows (level, bucket, changed_seq)
     SELECT p.level, p.bucket, nextval('window_change_seq')
     FROM (
       SELECT DISTINCT p.o, p.level, agg_bucket_start(p.level, t.at, $5, $6) AS bucket
       FROM unnest($4::text[]) WITH ORDINALITY AS p(level, o)
       CROSS JOIN w
       CROSS JOIN LATERAL (VALUES (w.bucket),
                                  (agg_bucket_end($1::text, w.bucket, $5::text) - interval '1 microsecond')) AS t(at)
     ) AS p
     ORDER BY p.o, p.bucket
     ON CONFLICT (level, bucket) DO UPDATE SET changed_seq = EXCLUDED.changed_seq, updated_at = now()`,
    [level, buckets, seqs, parents, calendar.timeZone, calendar.weekStart],
  );
}

/**
 * Records windows left removed (shared/aggregate/removed-sources.ts, sourcesToLeaveRemoved): done up to their
 * `seqs` entry, retry state cleared, state_removed kept — nothing was stored, their aggregates are in the
 * archive. Nothing above is re-opened, as nothing changed. A source rebuilt later re-opens them (a newer
 * changed_seq), and they are computed then if all their sources are back.
 */
export async function markWindowsLeftRemoved(
  db: Queryable,
  level: Level,
  buckets: readonly Date[],
  seqs: readonly number[],
): Promise<void> {
  await db.query(
    `UPDATE aggregation_windows a
     SET done_seq = greatest(coalesce(a.done_seq, 0), w.seq), attempts = 0, retry_at = NULL, last_error = NULL,
         updated_at = now()
     FROM unnest($2::timestamptz[], $3::bigint[]) AS w(bucket, seq)
     WHERE a.level = $1 AND a.bucket = w.bucket`,
    [level, buckets, seqs],
  );
}

/** Records a failed attempt; returns the attempts so far. */
export async function markWindowFailed(
  db: Queryable,
  level: Level,
  bucket: Date,
  error: string,
  retryAt: Date,
): Promise<number> {
  const { rows } = await db.query<{ attempts: number }>(
    `UPDATE aggregation_windows
     SET attempts = attempts + 1, last_error = $3, retry_at = $4, updated_at = now()
     WHERE level = $1 AND bucket = $2
     RETURNING attempts`,
    [level, bucket, error, retryAt],
  );
  return rows[0]?.attempts ?? 0;
}

/**
 * Backfill: marks dirty (with retry state reset) every window of `level` overlapping [from, to) that has
 * data — raw events for hours, stored state of the level below for rollups — or already exists.
 * Hours are then computed from their raw rows, not their partials (which that replaces: hour-partials.ts).
 * Returns how many windows were marked.
 */
export async function markRangeDirty(
  db: Queryable,
  level: Level,
  from: Date,
  to: Date,
  calendar: CalendarOptions,
): Promise<number> {
  const below = levelBelow(level);
  const start = 'agg_bucket_start($1, $2, $4, $5)';
  // A window has data when a stored window below holds part of it: one containing the window's start may
  // begin before it (an hour in which a local day starts), so both ends of each window below are placed.
  const firstBelow = below === 'hour' ? `date_trunc('hour', ${start}, 'UTC')` : start;
  const withData = below
    ? `SELECT DISTINCT agg_bucket_start($1, t.at, $4, $5) AS bucket
       FROM (SELECT DISTINCT bucket FROM aggregate_state
             WHERE level = '${below}' AND bucket >= ${firstBelow} AND bucket < $3) AS s
       CROSS JOIN LATERAL (VALUES (s.bucket),
                                  (agg_bucket_end('${below}', s.bucket, $4) - interval '1 microsecond')) AS t(at)
       WHERE agg_bucket_start($1, t.at, $4, $5) >= ${start}`
    : `SELECT DISTINCT date_trunc('hour', r.ts, 'UTC') AS bucket FROM raw_events r
       WHERE r.ts >= ${start} AND r.ts < $3`;
  const { rowCount } = await db.query(
    `INSERT INTO aggregation_windows (level, bucket, changed_seq)
     SELECT $1, c.bucket, nextval('window_change_seq')
     FROM (${withData}
           UNION
           SELECT w.bucket FROM aggregation_windows w WHERE w.level = $1 AND w.bucket >= ${start} AND w.bucket < $3) c
     WHERE c.bucket < $3
     ON CONFLICT (level, bucket) DO UPDATE
       SET changed_seq = EXCLUDED.changed_seq, attempts = 0, retry_at = NULL, last_error = NULL, updated_at = now(),
           partials_complete = aggregation_windows.partials_complete AND $1 <> 'hour'`,
    [level, from, to, calendar.timeZone, calendar.weekStart],
  );
  return rowCount ?? 0;
}

export interface FailedWindow {
  level: Level;
  bucket: Date;
  attempts: number;
  retryAt: Date | null;
  lastError: string | null;
}

/** Windows whose last attempt failed (retrying or out of retries), oldest first. */
export async function listFailedWindows(db: Queryable, level?: Level): Promise<FailedWindow[]> {
  const { rows } = await db.query<{
    level: Level;
    bucket: Date;
    attempts: number;
    retry_at: Date | null;
    last_error: string | null;
  }>(
    `SELECT level, bucket, attempts, retry_at, last_error FROM aggregation_windows
     WHERE attempts > 0 AND ($1::text IS NULL OR level = $1) ORDER BY level, bucket`,
    [level ?? null],
  );
  return rows.map((r) => ({
    level: r.level,
    bucket: r.bucket,
    attempts: r.attempts,
    retryAt: r.retry_at,
    lastError: r.last_error,
  }));
}
