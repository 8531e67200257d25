// Statements on the reports table (owned here): claim a (type, period)'s format rows for one generation,
// record each format stored or failed, and read rows for the API and the catch-up scan.
import type { Queryable } from '../../db/index.ts';
import type { ReportFormat, ReportType } from '../types.ts';

export interface ReportRow {
  id: number;
  report_type: ReportType;
  format: ReportFormat;
  period_start: Date;
  period_end: Date;
  period_label: string | null;
  time_zone: string;
  status: 'generating' | 'stored' | 'failed' | 'expired';
  location: string | null;
  content_type: string | null;
  size_bytes: number | null;
  sha256: string | null;
  source_seq: number | null;
  render_ms: number | null;
  stored_at: Date | null;
  /** Failed attempts on the data of failed_seq (a REPORT_PERIOD_NOT_READY wait is not one). */
  attempts: number;
  retry_at: Date | null;
  /** done_seq of the period's aggregation window when the last attempt failed (000014). */
  failed_seq: number | null;
  error_code: string | null;
  error: string | null;
  run_id: number | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id::int AS id, report_type, format, period_start, period_end, period_label, time_zone, status, location,
  content_type, size_bytes::float8 AS size_bytes, sha256, source_seq::float8 AS source_seq, render_ms, stored_at,
  attempts, retry_at, failed_seq::float8 AS failed_seq, error_code, error, run_id::float8 AS run_id, created_at,
  updated_at`;

export interface ClaimRequest {
  type: ReportType;
  periodStart: Date;
  periodEnd: Date;
  periodLabel: string;
  timeZone: string;
  formats: readonly ReportFormat[];
  owner: string;
  leaseMs: number;
}

/**
 * Claims the rows of `formats` (created when missing) for `owner`, unless another generation holds them and
 * its lease is fresh. Returns the claimed rows and, separately, the rows another generation holds.
 */
export async function claimReports(
  db: Queryable,
  req: ClaimRequest,
): Promise<{ claimed: ReportRow[]; busy: ReportRow[] }> {
  const { rows: claimed } = await db.query<ReportRow>(
    `INSERT INTO reports (report_type, period_start, period_end, period_label, time_zone, format, status, locked_by,
                          locked_at, updated_at)
     SELECT $1, $2, $3, $4, $5, f, 'generating', $7, clock_timestamp(), clock_timestamp()
     FROM unnest($6::text[]) AS f
     ON CONFLICT (report_type, period_start, format) DO UPDATE
       SET status = 'generating', locked_by = EXCLUDED.locked_by, locked_at = EXCLUDED.locked_at,
           period_end = EXCLUDED.period_end, period_label = EXCLUDED.period_label, time_zone = EXCLUDED.time_zone,
           updated_at = clock_timestamp()
       WHERE reports.locked_by IS NULL
          OR reports.locked_at < clock_timestamp() - make_interval(secs => $8::double precision / 1000)
     RETURNING ${COLUMNS}`,
    [
      req.type,
      req.periodStart,
      req.periodEnd,
      req.periodLabel,
      req.timeZone,
      req.formats,
      req.owner,
      req.leaseMs,
    ],
  );
  const mine = new Set(claimed.map((r) => r.id));
  const { rows: all } = await db.query<ReportRow>(
    `SELECT ${COLUMNS} FROM reports WHERE report_type = $1 AND period_start = $2 AND format = ANY($3::text[])`,
    [req.type, req.periodStart, req.formats],
  );
  return { claimed, busy: all.filter((r) => !mine.has(r.id)) };
}

/**
 * The rows of `formats` for one (type, period), created as queued ('generating', unclaimed) when missing, so
 * a request can answer their ids before the generation claims them. Existing rows are left as they are.
 */
export async function ensureReports(
  db: Queryable,
  req: Omit<ClaimRequest, 'owner' | 'leaseMs'>,
): Promise<ReportRow[]> {
  await db.query(
    `INSERT INTO reports (report_type, period_start, period_end, period_label, time_zone, format, status)
     SELECT $1, $2, $3, $4, $5, f, 'generating' FROM unnest($6::text[]) AS f
     ON CONFLICT (report_type, period_start, format) DO NOTHING`,
    [req.type, req.periodStart, req.periodEnd, req.periodLabel, req.timeZone, req.formats],
  );
  const { rows } = await db.query<ReportRow>(
    `SELECT ${COLUMNS} FROM reports WHERE report_type = $1 AND period_start = $2 AND format = ANY($3::text[])
     ORDER BY array_position($3::text[], format)`,
    [req.type, req.periodStart, req.formats],
  );
  return rows;
}

export interface StoredUpdate {
  location: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  renderMs: number;
  sourceSeq: number | null;
  runId: number;
}

/** The new object is in the store: the row now points at it, its failure state cleared and its claim released. */
export async function markReportStored(
  db: Queryable,
  id: number,
  owner: string,
  u: StoredUpdate,
): Promise<ReportRow | undefined> {
  const { rows } = await db.query<ReportRow>(
    `UPDATE reports SET status = 'stored', location = $3, content_type = $4, size_bytes = $5, sha256 = $6,
            render_ms = $7, source_seq = $8, run_id = $9, stored_at = clock_timestamp(), attempts = 0,
            failed_seq = NULL, retry_at = NULL, error_code = NULL, error = NULL, locked_by = NULL, locked_at = NULL,
            updated_at = clock_timestamp()
     WHERE id = $1 AND locked_by = $2
     RETURNING ${COLUMNS}`,
    [id, owner, u.location, u.contentType, u.sizeBytes, u.sha256, u.renderMs, u.sourceSeq, u.runId],
  );
  return rows[0];
}

/**
 * A generation of this row failed: stored stays stored (the previous object is still served), a row with no
 * object becomes failed; the error, the attempts counted so far, the data they failed on and the next retry are
 * recorded, the claim released. The caller counts the attempts (a wait for aggregation is not one).
 */
export async function markReportFailed(
  db: Queryable,
  id: number,
  owner: string,
  failure: {
    code: string;
    message: string;
    attempts: number;
    failedSeq: number | null;
    retryAt: Date | null;
    runId: number | null;
  },
): Promise<ReportRow | undefined> {
  const { rows } = await db.query<ReportRow>(
    `UPDATE reports SET status = CASE WHEN location IS NULL THEN 'failed' ELSE 'stored' END,
            attempts = $5, failed_seq = $6, retry_at = $7, error_code = $3, error = $4, run_id = coalesce($8, run_id),
            locked_by = NULL, locked_at = NULL, updated_at = clock_timestamp()
     WHERE id = $1 AND locked_by = $2
     RETURNING ${COLUMNS}`,
    [
      id,
      owner,
      failure.code,
      failure.message.slice(0, 2000),
      failure.attempts,
      failure.failedSeq,
      failure.retryAt,
      failure.runId,
    ],
  );
  return rows[0];
}

/**
 * done_seq of the aggregation window of `level` at `bucket` (final or not; null without one): the data a
 * failing attempt is counted against. Read here, beside duePeriods, which compares it with failed_seq.
 */
export async function windowDoneSeq(db: Queryable, level: string, bucket: Date): Promise<number | null> {
  const { rows } = await db.query<{ done_seq: number | null }>(
    `SELECT done_seq::float8 AS done_seq FROM aggregation_windows WHERE level = $1 AND bucket = $2`,
    [level, bucket],
  );
  return rows[0]?.done_seq ?? null;
}

export async function getReport(db: Queryable, id: number): Promise<ReportRow | undefined> {
  const { rows } = await db.query<ReportRow>(`SELECT ${COLUMNS} FROM reports WHERE id = $1`, [id]);
  return rows[0];
}

export async function getReports(db: Queryable, ids: readonly number[]): Promise<ReportRow[]> {
  const { rows } = await db.query<ReportRow>(
    `SELECT ${COLUMNS} FROM reports WHERE id = ANY($1::bigint[]) ORDER BY id`,
    [ids],
  );
  return rows;
}

/** Of `ids`, the rows another generation holds now: claimed, and its lease still running. */
export async function heldReportIds(
  db: Queryable,
  ids: readonly number[],
  leaseMs: number,
): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `SELECT id::int AS id FROM reports WHERE id = ANY($1::bigint[]) AND locked_by IS NOT NULL
       AND locked_at >= clock_timestamp() - make_interval(secs => $2::double precision / 1000)`,
    [ids, leaseMs],
  );
  return rows.map((r) => r.id);
}

/** The stored row of one (type, period, format), if any. */
export async function storedReportOf(
  db: Queryable,
  type: ReportType,
  periodStart: Date,
  format: ReportFormat,
): Promise<ReportRow | undefined> {
  const { rows } = await db.query<ReportRow>(
    `SELECT ${COLUMNS} FROM reports
     WHERE report_type = $1 AND period_start = $2 AND format = $3 AND location IS NOT NULL`,
    [type, periodStart, format],
  );
  return rows[0];
}

export interface ListFilter {
  type?: string | undefined;
  format?: string | undefined;
  status?: string | undefined;
  /** period_start ≥ from */
  from?: Date | undefined;
  /** period_start < to */
  to?: Date | undefined;
  limit: number;
  /** Rows with a smaller id (the previous page's last id). */
  before?: number | undefined;
}

/** Newest first (by id, which follows creation). */
export async function listReports(db: Queryable, f: ListFilter): Promise<ReportRow[]> {
  const { rows } = await db.query<ReportRow>(
    `SELECT ${COLUMNS} FROM reports
     WHERE ($1::text IS NULL OR report_type = $1) AND ($2::text IS NULL OR format = $2)
       AND ($3::text IS NULL OR status = $3) AND ($4::timestamptz IS NULL OR period_start >= $4)
       AND ($5::timestamptz IS NULL OR period_start < $5) AND ($6::bigint IS NULL OR id < $6)
     ORDER BY id DESC LIMIT $7`,
    [
      f.type ?? null,
      f.format ?? null,
      f.status ?? null,
      f.from ?? null,
      f.to ?? null,
      f.before ?? null,
      f.limit,
    ],
  );
  return rows;
}

export interface TypeStatusRow {
  report_type: string;
  last_success_at: Date | null;
  last_success_id: number | null;
  last_failure_at: Date | null;
  last_failure_id: number | null;
  last_failure_error: string | null;
  generating: number;
  retrying: number;
}

/** Per type: the newest stored and the newest failed generation, what runs now, what waits for a retry. */
export async function reportTypeStatus(db: Queryable): Promise<TypeStatusRow[]> {
  const { rows } = await db.query<TypeStatusRow>(
    `SELECT t.report_type,
            s.stored_at AS last_success_at, s.id AS last_success_id,
            f.updated_at AS last_failure_at, f.id AS last_failure_id, f.error AS last_failure_error,
            (SELECT count(*)::int FROM reports g WHERE g.report_type = t.report_type AND g.status = 'generating') AS generating,
            (SELECT count(*)::int FROM reports r WHERE r.report_type = t.report_type AND r.error_code IS NOT NULL
               AND r.retry_at IS NOT NULL AND r.status <> 'generating') AS retrying
     FROM (SELECT DISTINCT report_type FROM reports) t
     LEFT JOIN LATERAL (SELECT id::int AS id, stored_at FROM reports WHERE report_type = t.report_type AND stored_at IS NOT NULL
                        ORDER BY stored_at DESC LIMIT 1) s ON true
     LEFT JOIN LATERAL (SELECT id::int AS id, updated_at, error FROM reports WHERE report_type = t.report_type
                          AND error_code IS NOT NULL ORDER BY updated_at DESC LIMIT 1) f ON true
     ORDER BY t.report_type`,
  );
  return rows;
}

export interface DuePeriod {
  report_type: ReportType;
  period_start: Date;
  formats: ReportFormat[];
}

/**
 * Rows to generate again now: a failed attempt whose retry is due (and retries left; a row waiting for its
 * aggregation has spent none), or a claim whose holder died (lease expired). Grouped per (type, period).
 */
export async function dueReportRetries(
  db: Queryable,
  now: Date,
  retries: number,
  leaseMs: number,
): Promise<DuePeriod[]> {
  const { rows } = await db.query<DuePeriod>(
    `SELECT report_type, period_start, array_agg(format ORDER BY format) AS formats
     FROM reports
     WHERE (error_code IS NOT NULL AND retry_at IS NOT NULL AND retry_at <= $1 AND attempts <= $2
            AND (locked_by IS NULL OR locked_at < $1::timestamptz - make_interval(secs => $3::double precision / 1000)))
        OR (status = 'generating'
            AND coalesce(locked_at, updated_at) < $1::timestamptz - make_interval(secs => $3::double precision / 1000))
     GROUP BY report_type, period_start ORDER BY period_start, report_type`,
    [now, retries, leaseMs],
  );
  return rows;
}

/**
 * Final aggregation windows of `level` that ended in (since, now] and lack a current report of `type` in one
 * of `formats`: none stored, or stored from an older state of the window (late data re-aggregated it), with
 * the formats to generate. A period another run holds is left to it. A format that failed on this very data
 * (failed_seq = done_seq) waits for its retry (dueReportRetries) or, out of retries, for a request or new data;
 * the period's other formats are still due. A format waiting for aggregation (REPORT_PERIOD_NOT_READY) is no
 * failure: it is due as soon as the window is final.
 */
export async function duePeriods(
  db: Queryable,
  q: {
    type: ReportType;
    level: string;
    formats: readonly ReportFormat[];
    since: Date;
    now: Date;
    timeZone: string;
  },
): Promise<Array<{ bucket: Date; done_seq: number; formats: ReportFormat[] }>> {
  const { rows } = await db.query<{ bucket: Date; done_seq: string; formats: ReportFormat[] }>(
    `SELECT bucket, done_seq, array_agg(format ORDER BY ord) FILTER (WHERE NOT failing) AS formats
     FROM (SELECT w.bucket, w.done_seq, f.format, f.ord,
                  coalesce(r.location IS NOT NULL AND r.source_seq >= w.done_seq, false) AS current,
                  coalesce(r.error_code IS NOT NULL AND r.error_code <> 'REPORT_PERIOD_NOT_READY' AND r.attempts > 0
                           AND r.failed_seq IS NOT DISTINCT FROM w.done_seq, false) AS failing
           FROM aggregation_windows w
           CROSS JOIN unnest($6::text[]) WITH ORDINALITY AS f(format, ord)
           LEFT JOIN reports r ON r.report_type = $5 AND r.period_start = w.bucket AND r.format = f.format
           WHERE w.level = $1 AND w.done_seq >= w.changed_seq
             AND agg_bucket_end(w.level, w.bucket, $2) <= $3 AND agg_bucket_end(w.level, w.bucket, $2) > $4
             AND NOT EXISTS (SELECT 1 FROM reports l
                  WHERE l.report_type = $5 AND l.period_start = w.bucket AND l.format = ANY($6::text[])
                    AND l.locked_by IS NOT NULL)) s
     GROUP BY bucket, done_seq
     HAVING bool_or(NOT current AND NOT failing)
     ORDER BY bucket`,
    [q.level, q.timeZone, q.now, q.since, q.type, q.formats],
  );
  return rows.map((r) => ({ bucket: r.bucket, done_seq: Number(r.done_seq), formats: r.formats }));
}
