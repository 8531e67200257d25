// The statements that claim Kafka records for exactly-once storage. A record is known by
// (topic, partition, offset) on both ingest paths; claims are kept as offset ranges
// (kafka_record_claims, migration 000004), so a pull batch costs one row, not one index entry per record.
import type { Queryable } from '../db/index.ts';

/**
 * Claims `offsets` (decimal strings, one partition) and returns those that an earlier claim already
 * holds — usually none. The advisory lock serialises claimers of the partition; the claim statement,
 * run after it, sees every claim committed before the lock was granted. The fresh offsets are stored as
 * runs of consecutive offsets, so offsets missing from `offsets` (a rejected record between two good
 * ones) stay unclaimed.
 */
export async function claimKafkaOffsets(
  client: Queryable,
  topic: string,
  partition: number,
  offsets: readonly string[],
): Promise<Set<string>> {
  if (offsets.length === 0) return new Set();
  await client.query(`SELECT pg_advisory_xact_lock(hashtext('hxp.kafka_record_claims:' || $1), $2)`, [
    topic,
    partition,
  ]);
  const { rows } = await client.query<{ o: string }>(
    `WITH input AS MATERIALIZED (SELECT DISTINCT o FROM unnest($3::bigint[]) AS o),
     overlapping AS MATERIALIZED (
       SELECT first_offset, end_offset FROM kafka_record_claims
       WHERE topic = $1 AND partition = $2
         AND end_offset > (SELECT min(o) FROM input) AND first_offset <= (SELECT max(o) FROM input)
     ),
     known AS MATERIALIZED (
       SELECT i.o FROM input i JOIN overlapping r ON i.o >= r.first_offset AND i.o < r.end_offset
     ),
     runs AS (
       SELECT o, o - row_number() OVER (ORDER BY o) AS run
       FROM input WHERE o NOT IN (SELECT o FROM known)
     ),
     claimed AS (
       INSERT INTO kafka_record_claims (topic, partition, first_offset, end_offset)
       SELECT $1, $2, min(o), max(o) + 1 FROM runs GROUP BY run
     )
     SELECT o::text AS o FROM known`,
    [topic, partition, offsets],
  );
  return new Set(rows.map((r) => r.o));
}
