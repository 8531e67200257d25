// The statements that write raw_events and event_keys (a batch's partials and the hours it changed are
// recorded by shared/aggregate/partials-sql.ts, in the same transaction). event_keys is the arbiter of
// exactly-once for events with an id (on every path) and pushed events without one; Kafka records without an
// id are claimed by offset (kafka-claims-sql.ts). Only rows whose key or offset was newly accepted (in this
// transaction) are written to raw_events.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyStream } from '../db/binary-copy.ts';
import { errorCode } from '../db/errors.ts';
import type { Queryable } from '../db/types.ts';

const UNIQUE_VIOLATION = '23505';
const DEADLOCK_DETECTED = '40P01';
const CLAIM_ATTEMPTS = 3;

/**
 * raw_events columns in the order of COPY rows (raw-row-binary.ts) and of json rows; ingested_at defaults. The
 * five that decide a row's base group and metric states lie side by side, in the order of a range's COPY
 * (RANGE_COLUMNS of shared/aggregate/range-accumulator.ts), so a batch's partials find them as one run of bytes.
 */
export const RAW_COLUMNS =
  'ts, idempotency_key, event_type, source, dimension_names, dimension_values, metric_names, metric_values, data';

/**
 * Creates the missing daily partitions for `days` (YYYY-MM-DD, UTC). Existing ones are filtered first so
 * the common case takes no lock; missing ones are created in sorted order so two creators cannot deadlock.
 */
export async function ensurePartitions(client: Queryable, days: readonly string[]): Promise<void> {
  if (days.length === 0) return;
  await client.query(
    `SELECT ensure_raw_partition(d) FROM (
       SELECT d FROM unnest($1::date[]) AS d
       WHERE to_regclass(format('raw_events_%s', to_char(d, 'YYYYMMDD'))) IS NULL
       ORDER BY d) missing`,
    [days],
  );
}

/**
 * Records the keys (distinct, sorted by the caller, so claimers one by one lock alike) and returns those
 * that were already known — usually none, so almost nothing travels back. A key another open transaction
 * is inserting waits for it, then counts as known. Inside a savepoint: should PostgreSQL still break a
 * deadlock with a batch that claims its keys by COPY in arrival order (copyNewKeys) by failing this one, the
 * claim is undone and run again, by which time the other batch holds what it needs.
 */
export async function claimKeys(
  client: Queryable,
  keys: readonly string[],
  timestamps: readonly string[],
): Promise<Set<string>> {
  for (let attempt = 1; ; attempt++) {
    await client.query('SAVEPOINT hxp_claim_keys');
    try {
      const { rows } = await client.query<{ k: string }>(
        `WITH input AS (SELECT * FROM unnest($1::text[], $2::timestamptz[]) AS i(k, ts)),
         claimed AS (
           INSERT INTO event_keys (idempotency_key, ts) SELECT k, ts FROM input
           ON CONFLICT (idempotency_key) DO NOTHING
           RETURNING idempotency_key
         )
         SELECT k FROM input WHERE k NOT IN (SELECT idempotency_key FROM claimed)`,
        [keys, timestamps],
      );
      await client.query('RELEASE SAVEPOINT hxp_claim_keys');
      return new Set(rows.map((r) => r.k));
    } catch (err) {
      if (errorCode(err) !== DEADLOCK_DETECTED || attempt >= CLAIM_ATTEMPTS) throw err;
      await client.query('ROLLBACK TO SAVEPOINT hxp_claim_keys');
    }
  }
}

/**
 * Records keys none of which is expected to be known yet — the common case — by COPY, which is about half
 * the cost of INSERT … ON CONFLICT per key. Inside a savepoint: a key that is known (or being inserted by
 * another open transaction, which is waited for) raises unique_violation; a batch sharing keys with this
 * one in the opposite order may make PostgreSQL break a deadlock by failing this COPY. Either way the
 * savepoint is rolled back and false comes back: the caller then claims the keys sorted, with claimKeys.
 * `stream` is the binary COPY stream of (idempotency_key, ts) rows (key-claim-tuples.ts), in arrival order
 * (sorting every batch's keys would cost more than the rare deadlock).
 */
export async function copyNewKeys(client: PoolClient, stream: Iterable<Buffer>): Promise<boolean> {
  await client.query('SAVEPOINT hxp_claim_keys');
  try {
    await pipeline(
      Readable.from(stream, { objectMode: false }),
      client.query(copyFrom('COPY event_keys (idempotency_key, ts) FROM STDIN (FORMAT binary)')),
    );
  } catch (err) {
    const code = errorCode(err);
    if (code !== UNIQUE_VIOLATION && code !== DEADLOCK_DETECTED) throw err;
    await client.query('ROLLBACK TO SAVEPOINT hxp_claim_keys');
    return false;
  }
  // Not released: COMMIT ends it with the transaction, and a round trip fewer per batch counts when the
  // machine is busy (the claim added three to the pull batch's nine).
  return true;
}

/** Streams binary COPY rows (raw-row-binary.ts), given as chunks of bytes, into raw_events. */
export async function copyRawEvents(client: PoolClient, rows: readonly Buffer[]): Promise<void> {
  const stream = client.query(copyFrom(`COPY raw_events (${RAW_COLUMNS}) FROM STDIN (FORMAT binary)`));
  await pipeline(Readable.from(copyStream(rows), { objectMode: false }), stream);
}

/** The one-statement path for small batches and for PGlite, whose socket does not speak COPY. */
export async function insertRawEventsJson(client: Queryable, rowsJson: string): Promise<void> {
  await client.query(
    `INSERT INTO raw_events (${RAW_COLUMNS})
     SELECT ${RAW_COLUMNS} FROM json_to_recordset($1::json) AS x(
       ts timestamptz, event_type text, source text, idempotency_key text, metric_names text[],
       metric_values double precision[], dimension_names text[], dimension_values text[], data jsonb)`,
    [rowsJson],
  );
}
