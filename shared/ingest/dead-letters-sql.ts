// dead_letters is written only here. The idempotency key makes a redelivered bad record land once.
import type { Queryable } from '../db/index.ts';
import type { DeadLetter } from './types.ts';

/** Inserts the rejections in one statement; returns how many were new. */
export async function insertDeadLetters(client: Queryable, letters: readonly DeadLetter[]): Promise<number> {
  if (letters.length === 0) return 0;
  const result = await client.query(
    `INSERT INTO dead_letters (origin, topic, kafka_partition, kafka_offset, idempotency_key, reason_code, reason, payload)
     SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::bytea[])
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [
      letters.map((l) => l.origin),
      letters.map((l) => l.topic ?? null),
      letters.map((l) => l.partition ?? null),
      letters.map((l) => (l.offset === undefined ? null : String(l.offset))),
      letters.map((l) => l.idempotencyKey),
      letters.map((l) => l.reasonCode),
      letters.map((l) => stripNul(l.reason)),
      letters.map((l) => l.payload),
    ],
  );
  return result.rowCount ?? 0;
}

// A reason may quote the bad input; text cannot hold NUL.
function stripNul(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\\u0000') : text;
}
