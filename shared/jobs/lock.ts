// Per-job locks as rows of job_locks (locked_by / locked_at + a lease), not session advisory locks.
//
// Why a row: pg_try_advisory_lock belongs to a session, so the lock holder's connection would have to stay
// checked out for the whole run and do all of its work. In embedded mode (PGlite) there is exactly one
// connection: a second invocation would not get a "busy" answer from the lock — it would queue for the
// connection and then find the lock free, running after the first instead of answering `already_running`.
// A row claimed by one atomic upsert answers at once in both modes, lets every window be its own short
// transaction (the connection is free between windows), and survives a crashed holder through the lease:
// the holder refreshes locked_at while it runs — on a timer every quarter of the lease, whatever step it is in,
// and after each window or unit (lock-keeper.ts) — and a lock older than the lease is swept (taken over). The
// lease thus bounds how long a dead holder blocks the job, not how long one window may take.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/index.ts';

/**
 * The lease of a job's lock: its time limit and a minute more, so a live run — which refreshes the lock
 * every quarter of the lease — never loses it, and a dead one blocks the job no longer than that.
 */
export function jobLeaseMs(timeoutMs: number): number {
  return timeoutMs + 60_000;
}

export function newLockOwner(): string {
  return `${hostname()}:${process.pid}:${randomUUID()}`;
}

/** Claims `job` for `owner` unless another owner holds a lock younger than `leaseMs`. true when claimed. */
export async function tryLockJob(
  db: Queryable,
  job: string,
  owner: string,
  leaseMs: number,
): Promise<boolean> {
  const { rows } = await db.query(
    `INSERT INTO job_locks (job, locked_by, locked_at) VALUES ($1, $2, clock_timestamp())
     ON CONFLICT (job) DO UPDATE SET locked_by = EXCLUDED.locked_by, locked_at = EXCLUDED.locked_at, run_id = NULL
     WHERE job_locks.locked_by IS NULL
        OR job_locks.locked_at < clock_timestamp() - make_interval(secs => $3::double precision / 1000)
     RETURNING job`,
    [job, owner, leaseMs],
  );
  return rows.length === 1;
}

/**
 * A column for a query over `runs`: when the job's lock was last refreshed for that run, null when the lock
 * is not held for it — what tells a run whose invocation died from one still working (status pages).
 */
export const LOCK_REFRESHED_AT_COLUMN = `(SELECT l.locked_at FROM job_locks l
  WHERE l.job = runs.job AND l.run_id = runs.id AND l.locked_by IS NOT NULL) AS lock_refreshed_at`;

/** Records which run holds the lock (for the status page). */
export async function setLockRun(db: Queryable, job: string, owner: string, runId: number): Promise<void> {
  await db.query('UPDATE job_locks SET run_id = $3 WHERE job = $1 AND locked_by = $2', [job, owner, runId]);
}

/** Refreshes the lease; false when the lock was lost (swept as stale), so the holder must stop. */
export async function heartbeatJobLock(db: Queryable, job: string, owner: string): Promise<boolean> {
  const { rowCount } = await db.query(
    'UPDATE job_locks SET locked_at = clock_timestamp() WHERE job = $1 AND locked_by = $2',
    [job, owner],
  );
  return rowCount === 1;
}

export async function unlockJob(db: Queryable, job: string, owner: string): Promise<void> {
  await db.query(
    'UPDATE job_locks SET locked_by = NULL, locked_at = NULL, run_id = NULL WHERE job = $1 AND locked_by = $2',
    [job, owner],
  );
}
