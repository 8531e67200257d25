// The statements that claim Kafka records for exactly-once storage. A record is known by
// (topic, partition, offset) on both ingest paths; claims are kept as offset ranges
// (kafka_record_claims, migration 000004), so a pull batch costs one row, not one index entry per record.
import type { Queryable } from '../db/index.ts';

/**
 * Claims `offsets` (decimal strings, one partition) and returns those that an earlier claim already
 * holds — usually none. The advisory lock serialises claimers of the partition; the claim statement,
 * run after it, sees every claim committed before the lock was granted. The offsets go to PostgreSQL as
 * runs of consecutive offsets (offsetRuns), and the fresh ones are stored as such runs, so offsets missing
 * from `offsets` (a rejected record between two good ones) stay unclaimed.
 */
export async function claimKafkaOffsets(
  client: Queryable,
  topic: string,
  partition: number,
  offsets: readonly string[],
): Promise<Set<string>> {
  if (offsets.length === 0) return new Set();
  const { firsts, ends } = offsetRuns(offsets);
  await client.query(`SELECT pg_advisory_xact_lock(hashtext('hxp.kafka_record_claims:' || $1), $2)`, [
    topic,
    partition,
  ]);
  // A run that meets no earlier claim — every run, as a rule — is claimed as it is; only the offsets of a
  // run that does are looked at one by one.
  const { rows } = await client.query<{ o: string }>(
    `WITH runs AS MATERIALIZED (SELECT f, e FROM unnest($3::bigint[], $4::bigint[]) AS r(f, e)),
     overlapping AS MATERIALIZED (
       SELECT first_offset, end_offset FROM kafka_record_claims
       WHERE topic = $1 AND partition = $2
         AND end_offset > (SELECT min(f) FROM runs) AND first_offset < (SELECT max(e) FROM runs)
     ),
     hit AS MATERIALIZED (
       SELECT f, e FROM runs r
       WHERE EXISTS (SELECT 1 FROM overlapping c WHERE c.end_offset > r.f AND c.first_offset < r.e)
     ),
     known AS MATERIALIZED (
       SELECT DISTINCT o FROM hit h
       JOIN overlapping c ON c.end_offset > h.f AND c.first_offset < h.e,
       generate_series(greatest(h.f, c.first_offset), least(h.e, c.end_offset) - 1) AS o
     ),
     rest AS (
       SELECT o, o - row_number() OVER (ORDER BY o) AS run
       FROM hit h, generate_series(h.f, h.e - 1) AS o
       WHERE o NOT IN (SELECT o FROM known)
     ),
     claimed AS (
       INSERT INTO kafka_record_claims (topic, partition, first_offset, end_offset)
       SELECT $1, $2, f, e FROM runs r WHERE NOT EXISTS (SELECT 1 FROM hit h WHERE h.f = r.f)
       UNION ALL
       SELECT $1, $2, min(o), max(o) + 1 FROM rest GROUP BY run
     )
     SELECT o::text AS o FROM known`,
    [topic, partition, firsts, ends],
  );
  return new Set(rows.map((r) => r.o));
}

/** Offsets below 2^53 — every offset a real partition reaches — are exact as numbers. */
const EXACT_DIGITS = 15;

/**
 * The distinct offsets as runs of consecutive ones, ascending: `firsts[i]` to `ends[i]` (exclusive), as
 * decimal text. A batch's offsets ascend and make one run or a few; sending thousands of offsets instead
 * cost ~7 ms of PostgreSQL time per 9,600 (parsing the array, DISTINCT, a window over them) and as much
 * again in Node to render it. Offsets too large for a number are compared as bigints and sent one run each.
 */
export function offsetRuns(offsets: readonly string[]): { firsts: string[]; ends: string[] } {
  const firsts: string[] = [];
  const ends: string[] = [];
  if (!offsets.every((o) => o.length <= EXACT_DIGITS)) {
    const distinct = [...new Set(offsets.map(BigInt))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const o of distinct) {
      firsts.push(o.toString());
      ends.push((o + 1n).toString());
    }
    return { firsts, ends };
  }
  let values = offsets.map(Number);
  for (let i = 1; i < values.length; i++) {
    if ((values[i] as number) <= (values[i - 1] as number)) {
      // Not strictly ascending (a pushed batch may come in any order, or repeat a record).
      values = [...new Set(values)].sort((a, b) => a - b);
      break;
    }
  }
  let first = values[0] as number;
  for (let i = 1; i <= values.length; i++) {
    if (i < values.length && values[i] === (values[i - 1] as number) + 1) continue;
    firsts.push(String(first));
    ends.push(String((values[i - 1] as number) + 1));
    if (i < values.length) first = values[i] as number;
  }
  return { firsts, ends };
}
