// The runs ledger: one row per invocation and one per window attempt.
import type { Queryable } from '../db/index.ts';

export type Trigger = 'cron' | 'http' | 'kafka' | 'backfill' | 'manual';
export const TRIGGERS: readonly Trigger[] = ['cron', 'http', 'kafka', 'backfill', 'manual'];
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'skipped';

export interface StartRun {
  job: string;
  trigger: Trigger;
  windowStart?: Date | undefined;
  windowEnd?: Date | undefined;
  attempt?: number;
  status?: RunStatus;
  details?: object;
}

export interface FinishRun {
  status: Exclude<RunStatus, 'running'>;
  rowsIn?: number | undefined;
  rowsOut?: number | undefined;
  errorCode?: string | undefined;
  error?: string | undefined;
  details?: object | undefined;
}

export async function startRun(db: Queryable, run: StartRun): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO runs (job, trigger, window_start, window_end, attempt, status, details, finished_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $6 = 'running' THEN NULL ELSE clock_timestamp() END)
     RETURNING id`,
    [
      run.job,
      run.trigger,
      run.windowStart ?? null,
      run.windowEnd ?? null,
      run.attempt ?? 1,
      run.status ?? 'running',
      JSON.stringify(run.details ?? {}),
    ],
  );
  const id = rows[0]?.id;
  if (id === undefined) throw new Error('INSERT INTO runs returned no id');
  return Number(id);
}

/** A window attempt recorded when it has already finished, inside the transaction that did its work. */
export interface FinishedWindowRun {
  /** 'skipped' for a window left removed (shared/aggregate/removed-sources.ts); default 'succeeded'. */
  status?: 'succeeded' | 'skipped';
  windowStart: Date;
  windowEnd: Date;
  attempt: number;
  rowsIn: number;
  rowsOut: number;
  details: object;
}

/**
 * Records finished window attempts of `job` (distinct windows) in one statement; returns their ids in the
 * order of `runs`. Their started_at is the transaction's start (now()), which is when their work began.
 */
export async function recordFinishedRuns(
  db: Queryable,
  job: string,
  trigger: Trigger,
  runs: readonly FinishedWindowRun[],
): Promise<number[]> {
  const { rows } = await db.query<{ id: string; window_start: Date }>(
    `INSERT INTO runs (job, trigger, window_start, window_end, attempt, status, rows_in, rows_out, details,
                       finished_at)
     SELECT $1, $2, r.window_start, r.window_end, r.attempt, r.status, r.rows_in, r.rows_out, r.details,
            clock_timestamp()
     FROM unnest($3::timestamptz[], $4::timestamptz[], $5::int[], $6::bigint[], $7::bigint[], $8::jsonb[],
                 $9::text[])
          WITH ORDINALITY AS r(window_start, window_end, attempt, rows_in, rows_out, details, status, o)
     ORDER BY r.o
     RETURNING id, window_start`,
    [
      job,
      trigger,
      runs.map((r) => r.windowStart),
      runs.map((r) => r.windowEnd),
      runs.map((r) => r.attempt),
      runs.map((r) => r.rowsIn),
      runs.map((r) => r.rowsOut),
      runs.map((r) => JSON.stringify(r.details)),
      runs.map((r) => r.status ?? 'succeeded'),
    ],
  );
  const ids = new Map(rows.map((r) => [r.window_start.getTime(), Number(r.id)]));
  return runs.map((r) => {
    const id = ids.get(r.windowStart.getTime());
    if (id === undefined)
      throw new Error(`INSERT INTO runs returned no id for ${r.windowStart.toISOString()}`);
    return id;
  });
}

export async function finishRun(db: Queryable, id: number, result: FinishRun): Promise<void> {
  await db.query(
    `UPDATE runs SET status = $2, finished_at = clock_timestamp(), rows_in = $3, rows_out = $4,
                     error_code = $5, error = $6, details = details || $7::jsonb
     WHERE id = $1`,
    [
      id,
      result.status,
      result.rowsIn ?? null,
      result.rowsOut ?? null,
      result.errorCode ?? null,
      result.error ?? null,
      JSON.stringify(result.details ?? {}),
    ],
  );
}

/**
 * Marks failed (RUN_ABANDONED) every run of `job` before `currentRunId` still 'running': an invocation
 * that crashed, was cut off by its timeout, or lost the database before it could finish its run. Call it
 * while holding the job's lock, which proves no other invocation of the job is alive (a lock is taken
 * over only after its lease ran out). A job without one lock (runs of several invocations may overlap)
 * passes `leaseMs` instead: only runs started longer ago than that, which no live invocation still owns,
 * are expired. Returns the ids it expired.
 */
export async function expireAbandonedRuns(
  db: Queryable,
  job: string,
  currentRunId: number,
  leaseMs?: number,
): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `UPDATE runs SET status = 'failed', finished_at = clock_timestamp(), error_code = 'RUN_ABANDONED',
            error = 'the invocation running it ended without finishing it (crash, timeout or lost database); ' ||
                    'expired by run ' || $2::text
     WHERE job = $1 AND status = 'running' AND id < $2
       AND ($3::float8 IS NULL OR started_at < clock_timestamp() - $3::float8 * interval '1 millisecond')
     RETURNING id`,
    [job, currentRunId, leaseMs ?? null],
  );
  return rows.map((r) => Number(r.id));
}
