// The status API's SQL: read-only queries over runs and aggregation_windows, one named function each.
import type { Queryable } from '../db/index.ts';
import { LOCK_REFRESHED_AT_COLUMN } from '../jobs/index.ts';

export interface RunRow {
  id: number;
  job: string;
  trigger: string;
  window_start: Date | null;
  window_end: Date | null;
  attempt: number;
  status: string;
  started_at: Date;
  finished_at: Date | null;
  rows_in: number | null;
  rows_out: number | null;
  error_code: string | null;
  error: string | null;
}

const RUN_COLUMNS = `id, job, trigger, window_start, window_end, attempt, status, started_at, finished_at,
  rows_in, rows_out, error_code, error`;

export async function pingDatabase(db: Queryable): Promise<void> {
  await db.query('SELECT 1');
}

export interface LatestRunRow extends RunRow {
  /** When the job's lock was last refreshed for this run (shared/jobs keepJobLock); null when it holds none. */
  lock_refreshed_at: Date | null;
}

/** The newest run of each job (invocation or window attempt), `windowsOnly` keeps window attempts. */
export async function latestRunPerJob(
  db: Queryable,
  jobs: string[],
  windowsOnly: boolean,
): Promise<LatestRunRow[]> {
  const { rows } = await db.query<LatestRunRow>(
    `SELECT DISTINCT ON (job) ${RUN_COLUMNS}, ${LOCK_REFRESHED_AT_COLUMN}
       FROM runs
      WHERE job = ANY($1::text[]) AND (NOT $2 OR window_start IS NOT NULL)
      ORDER BY job, started_at DESC, id DESC`,
    [jobs, windowsOnly],
  );
  return rows;
}

/** End of the newest fully aggregated bucket per level (done_seq caught up with changed_seq). */
export async function newestCompletedBucketEnds(
  db: Queryable,
  timeZone: string,
): Promise<Array<{ level: string; bucket_end: Date }>> {
  const { rows } = await db.query<{ level: string; bucket_end: Date }>(
    `SELECT level, agg_bucket_end(level, max(bucket), $1) AS bucket_end
       FROM aggregation_windows
      WHERE done_seq IS NOT NULL AND done_seq >= changed_seq
      GROUP BY level`,
    [timeZone],
  );
  return rows;
}

/** Windows per level that last failed and are not yet redone. */
export async function failingWindowCounts(db: Queryable): Promise<Array<{ level: string; failing: number }>> {
  const { rows } = await db.query<{ level: string; failing: number }>(
    `SELECT level, count(*)::int AS failing
       FROM aggregation_windows
      WHERE last_error IS NOT NULL AND (done_seq IS NULL OR done_seq < changed_seq)
      GROUP BY level`,
  );
  return rows;
}

export interface RunFilter {
  job?: string | undefined;
  status?: string | undefined;
  limit: number;
}

export async function recentRuns(db: Queryable, filter: RunFilter): Promise<RunRow[]> {
  const { rows } = await db.query<RunRow>(
    `SELECT ${RUN_COLUMNS}
       FROM runs
      WHERE ($1::text IS NULL OR job = $1) AND ($2::text IS NULL OR status = $2)
      ORDER BY started_at DESC, id DESC
      LIMIT $3`,
    [filter.job ?? null, filter.status ?? null, filter.limit],
  );
  return rows;
}

/**
 * Closed windows per level whose data is not aggregated yet (never done, or changed since), and the end of
 * the oldest of them: how long aggregation has kept ended data waiting. A window is closed once its bucket
 * has ended in the configured zone (agg_bucket_end, as the aggregation jobs cut it); the open hour (or
 * day, …) is not counted.
 */
export async function dirtyClosedWindowCounts(
  db: Queryable,
  timeZone: string,
  now: Date,
): Promise<Array<{ level: string; dirty: number; oldest_end: Date }>> {
  const { rows } = await db.query<{ level: string; dirty: number; oldest_end: Date }>(
    `SELECT level, count(*)::int AS dirty, min(agg_bucket_end(level, bucket, $1)) AS oldest_end
       FROM aggregation_windows
      WHERE (done_seq IS NULL OR done_seq < changed_seq) AND agg_bucket_end(level, bucket, $1) <= $2
      GROUP BY level`,
    [timeZone, now],
  );
  return rows;
}

/** Dead letters not replayed yet, per reason code. */
export async function deadLetterCounts(db: Queryable): Promise<Array<{ reason: string; count: number }>> {
  const { rows } = await db.query<{ reason: string; count: number }>(
    `SELECT reason_code AS reason, count(*)::int AS count FROM dead_letters
      WHERE replayed_at IS NULL GROUP BY reason_code ORDER BY 1`,
  );
  return rows;
}

/**
 * The newest finished attempt per report type and format: stored (1) or failed (0). A reports row is one
 * (type, period, format) and is updated by each attempt; a failed regeneration keeps the row `stored` (the
 * previous file is still served) with its error_code set, so success is stored without an error.
 */
export async function latestReportOutcomes(
  db: Queryable,
): Promise<Array<{ report_type: string; format: string; stored: boolean }>> {
  const { rows } = await db.query<{ report_type: string; format: string; stored: boolean }>(
    `SELECT DISTINCT ON (report_type, format) report_type, format,
            status = 'stored' AND error_code IS NULL AS stored
       FROM reports
      WHERE status IN ('stored', 'failed')
      ORDER BY report_type, format, updated_at DESC, id DESC`,
  );
  return rows;
}

/** Events per hour and event type since `since`, from the hourly aggregates (the largest count of a type's metrics). */
export async function aggregatedEventsPerHour(
  db: Queryable,
  since: Date,
): Promise<Array<{ hour: Date; event_type: string; events: number }>> {
  const { rows } = await db.query<{ hour: Date; event_type: string; events: number }>(
    `SELECT "timestamp" AS hour, event_type, max(count)::float8 AS events
       FROM hourly_aggregations
      WHERE dimension = 'all' AND "timestamp" >= $1
      GROUP BY 1, 2
      ORDER BY 1, 2`,
    [since],
  );
  return rows;
}

/** Dead letters received per hour since `since`. */
export async function deadLettersPerHour(
  db: Queryable,
  since: Date,
): Promise<Array<{ hour: Date; rejected: number }>> {
  const { rows } = await db.query<{ hour: Date; rejected: number }>(
    `SELECT date_trunc('hour', received_at) AS hour, count(*)::int AS rejected
       FROM dead_letters WHERE received_at >= $1 GROUP BY 1 ORDER BY 1`,
    [since],
  );
  return rows;
}
