// Rows that are not archived, only kept for a while: dead letters, finished runs, idempotency keys of
// events and of push and /reports requests (with their answers), and Kafka record claims. Deleted in batches (each its own short statement), so a large backlog never holds a
// long lock or a long transaction.
import type { Queryable } from '../db/index.ts';

export type BookkeepingKind = 'dead_letters' | 'runs' | 'dedup_keys' | 'request_keys' | 'kafka_claims';

// Each statement deletes at most $2 rows older than $1 and returns how many it deleted.
const DELETE_BATCH: Record<BookkeepingKind, string> = {
  dead_letters: `DELETE FROM dead_letters WHERE id IN (
    SELECT id FROM dead_letters WHERE received_at < $1 ORDER BY id LIMIT $2)`,
  // the newest run of each job stays, so the status page can always say when a job last ran
  runs: `DELETE FROM runs WHERE id IN (
    SELECT id FROM runs r WHERE r.status <> 'running' AND r.finished_at < $1
      AND r.id <> (SELECT max(l.id) FROM runs l WHERE l.job = r.job)
    ORDER BY id LIMIT $2)`,
  dedup_keys: `DELETE FROM event_keys WHERE idempotency_key IN (
    SELECT idempotency_key FROM event_keys WHERE first_seen < $1 LIMIT $2)`,
  // push and /reports request keys together, each table at most $2 a round: the sweep goes on while the
  // two deleted $2 or more, and a round that deletes fewer has emptied both
  request_keys: `WITH push AS (
      DELETE FROM push_requests WHERE request_key IN (
        SELECT request_key FROM push_requests WHERE received_at < $1 LIMIT $2) RETURNING 1),
    report AS (
      DELETE FROM report_requests WHERE request_key IN (
        SELECT request_key FROM report_requests WHERE received_at < $1 LIMIT $2) RETURNING 1)
    SELECT 1 FROM push UNION ALL SELECT 1 FROM report`,
  kafka_claims: `DELETE FROM kafka_record_claims WHERE (topic, partition, first_offset) IN (
    SELECT topic, partition, first_offset FROM kafka_record_claims WHERE claimed_at < $1 LIMIT $2)`,
};

const COUNT: Record<BookkeepingKind, string> = {
  dead_letters: 'SELECT count(*)::int8 AS n FROM dead_letters WHERE received_at < $1',
  runs: `SELECT count(*)::int8 AS n FROM runs r WHERE r.status <> 'running' AND r.finished_at < $1
         AND r.id <> (SELECT max(l.id) FROM runs l WHERE l.job = r.job)`,
  dedup_keys: 'SELECT count(*)::int8 AS n FROM event_keys WHERE first_seen < $1',
  request_keys: `SELECT (SELECT count(*) FROM push_requests WHERE received_at < $1)
    + (SELECT count(*) FROM report_requests WHERE received_at < $1) AS n`,
  kafka_claims: 'SELECT count(*)::int8 AS n FROM kafka_record_claims WHERE claimed_at < $1',
};

export const BOOKKEEPING_KINDS = Object.keys(DELETE_BATCH) as BookkeepingKind[];

/** Rows of `kind` older than `cutoff` (what a sweep would delete). */
export async function countExpired(db: Queryable, kind: BookkeepingKind, cutoff: Date): Promise<number> {
  const { rows } = await db.query<{ n: number }>(COUNT[kind], [cutoff]);
  return Number(rows[0]?.n ?? 0);
}

/** Deletes the rows of `kind` older than `cutoff`, `batch` at a time; returns how many. */
export async function deleteExpired(
  db: Queryable,
  kind: BookkeepingKind,
  cutoff: Date,
  batch: number,
  between?: () => Promise<void>,
): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await db.query(DELETE_BATCH[kind], [cutoff, batch]);
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < batch) return total;
    await between?.();
  }
}
