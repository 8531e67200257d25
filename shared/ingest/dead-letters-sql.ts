// dead_letters is read and written only here. The idempotency key makes a redelivered bad record land once.
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

export interface DeadLetterRow {
  id: string;
  received_at: Date;
  origin: 'kafka' | 'http';
  topic: string | null;
  kafka_partition: number | null;
  kafka_offset: string | null;
  reason_code: string;
  reason: string;
  payload: Buffer;
  payload_bytes: number;
  replay_attempts: number;
  replayed_at: Date | null;
  replay_outcome: 'stored' | 'duplicate' | 'rejected' | null;
  replay_error: string | null;
}

export interface DeadLetterFilter {
  reason?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  /** Only letters with an id below this one (the keyset cursor). */
  beforeId?: string | undefined;
  /** Only the letter with this id. */
  id?: string | undefined;
  limit: number;
  /** Bytes of each payload returned (the whole payload when absent). */
  payloadBytes?: number | undefined;
}

// id is read as text (a bigint passes 2^53); ORDER BY names the column as dead_letters.id, because a bare
// \`id\` there means this text alias and would sort 9 before 10.
const COLUMNS = `id::text AS id, received_at, origin, topic, kafka_partition, kafka_offset::text AS kafka_offset,
  reason_code, reason, octet_length(payload) AS payload_bytes, replay_attempts, replayed_at, replay_outcome,
  replay_error`;

/** Newest first (by id), filtered by reason code and receive time, from a keyset cursor. */
export async function selectDeadLetters(db: Queryable, filter: DeadLetterFilter): Promise<DeadLetterRow[]> {
  const { rows } = await db.query<DeadLetterRow>(
    `SELECT ${COLUMNS}, CASE WHEN $6::int IS NULL THEN payload ELSE substring(payload FROM 1 FOR $6::int) END AS payload
       FROM dead_letters
      WHERE ($1::text IS NULL OR reason_code = $1)
        AND ($2::timestamptz IS NULL OR received_at >= $2)
        AND ($3::timestamptz IS NULL OR received_at < $3)
        AND ($4::bigint IS NULL OR id < $4)
        AND ($7::bigint IS NULL OR id = $7)
      ORDER BY dead_letters.id DESC
      LIMIT $5`,
    [
      filter.reason ?? null,
      filter.from ?? null,
      filter.to ?? null,
      filter.beforeId ?? null,
      filter.limit,
      filter.payloadBytes ?? null,
      filter.id ?? null,
    ],
  );
  return rows;
}

/** The letters with these ids, locked for this transaction, in id order. */
export async function lockDeadLetters(db: Queryable, ids: readonly string[]): Promise<DeadLetterRow[]> {
  const { rows } = await db.query<DeadLetterRow>(
    `SELECT ${COLUMNS}, payload FROM dead_letters WHERE id = ANY($1::bigint[]) ORDER BY dead_letters.id FOR UPDATE`,
    [ids],
  );
  return rows;
}

export interface ReplayMark {
  id: string;
  outcome: 'stored' | 'duplicate' | 'rejected';
  error: string | null;
}

/** Records one replay attempt per letter; stored and duplicate mark it replayed. */
export async function markReplayed(db: Queryable, marks: readonly ReplayMark[]): Promise<void> {
  if (marks.length === 0) return;
  await db.query(
    `UPDATE dead_letters d
        SET replay_attempts = d.replay_attempts + 1,
            replay_outcome = m.outcome,
            replay_error = m.error,
            replayed_at = CASE WHEN m.outcome = 'rejected' THEN NULL ELSE clock_timestamp() END
       FROM unnest($1::bigint[], $2::text[], $3::text[]) AS m(id, outcome, error)
      WHERE d.id = m.id`,
    [
      marks.map((m) => m.id),
      marks.map((m) => m.outcome),
      marks.map((m) => (m.error === null ? null : stripNul(m.error))),
    ],
  );
}
