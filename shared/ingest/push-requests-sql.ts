// The answers of push requests sent with an Idempotency-Key (table push_requests, migration 000012). Every
// statement runs in the transaction that stores the request's events: the key is claimed before anything
// else, so of two requests with one key the second waits on the first's row and, once that commits, reads
// its answer instead of storing anything.
import type { Queryable } from '../db/index.ts';
import { requestKeyReused } from '../http/index.ts';

export type RequestClaim<A> = { kind: 'claimed' } | { kind: 'answered'; answer: A };

/**
 * Claims `key` for this transaction, or returns the answer the request that claimed it got. A key held by
 * a request with another fingerprint is refused (IDEMPOTENCY_KEY_REUSED).
 */
export async function claimRequestKey<A>(
  client: Queryable,
  key: string,
  fingerprint: Buffer,
): Promise<RequestClaim<A>> {
  const claimed = await client.query(
    `INSERT INTO push_requests (request_key, fingerprint) VALUES ($1, $2)
     ON CONFLICT (request_key) DO NOTHING RETURNING request_key`,
    [key, fingerprint],
  );
  if (claimed.rows.length === 1) return { kind: 'claimed' };
  const { rows } = await client.query<{ fingerprint: Buffer; answer: A | null }>(
    'SELECT fingerprint, answer FROM push_requests WHERE request_key = $1',
    [key],
  );
  const prior = rows[0];
  // the row the conflict met is committed (a claim in flight is waited for), so it holds an answer; only a
  // deletion by the retention sweep in between could leave none, and then the key is simply free again
  if (!prior) return claimRequestKey(client, key, fingerprint);
  if (!Buffer.from(prior.fingerprint).equals(fingerprint) || prior.answer === null) {
    throw requestKeyReused(
      key,
      'another body, content type or Kafka record',
      'nothing of this one was stored',
    );
  }
  return { kind: 'answered', answer: prior.answer };
}

/** Records the answer of the request that claimed `key`, in the same transaction. */
export async function saveRequestAnswer(client: Queryable, key: string, answer: unknown): Promise<void> {
  await client.query('UPDATE push_requests SET answer = $2 WHERE request_key = $1', [
    key,
    JSON.stringify(answer),
  ]);
}
