// Statements on report_requests (owned here, migration 000013): the answers of /reports requests sent with an
// Idempotency-Key. A generation renders, stores files and sends e-mail, so it cannot run inside one transaction
// as a push does: the key is claimed with a lease, the answer recorded by the claim's owner when it has one,
// and a claim whose request died unanswered is taken over once its lease has passed.
import type { Queryable } from '../../db/index.ts';
import { BatchError } from '../../errors/index.ts';
import { requestKeyReused } from '../../http/index.ts';

export type ReportRequestClaim = { kind: 'claimed' } | { kind: 'answered'; status: number; answer: unknown };

/**
 * Claims `key` for `owner` until now + leaseMs: a new key, or one whose earlier request (the same one) died
 * before it answered. A key already answered returns that answer. Refused: the key held by another request
 * (IDEMPOTENCY_KEY_REUSED), or by this one still running (IDEMPOTENCY_KEY_IN_USE).
 */
export async function claimReportRequest(
  db: Queryable,
  c: { key: string; fingerprint: Buffer; owner: string; now: Date; leaseMs: number },
): Promise<ReportRequestClaim> {
  const claimedUntil = new Date(c.now.getTime() + c.leaseMs);
  const claimed = await db.query(
    `INSERT INTO report_requests (request_key, fingerprint, owner, claimed_until) VALUES ($1, $2, $3, $4)
     ON CONFLICT (request_key) DO UPDATE SET owner = EXCLUDED.owner, claimed_until = EXCLUDED.claimed_until
       WHERE report_requests.answer IS NULL AND report_requests.claimed_until <= $5
         AND report_requests.fingerprint = EXCLUDED.fingerprint
     RETURNING request_key`,
    [c.key, c.fingerprint, c.owner, claimedUntil, c.now],
  );
  if (claimed.rows.length === 1) return { kind: 'claimed' };
  const { rows } = await db.query<{
    fingerprint: Buffer;
    status: number | null;
    answer: unknown;
    claimed_until: Date;
  }>('SELECT fingerprint, status, answer, claimed_until FROM report_requests WHERE request_key = $1', [
    c.key,
  ]);
  const prior = rows[0];
  // deleted in between (a released claim, the retention sweep): the key is free again
  if (!prior) return claimReportRequest(db, c);
  if (!Buffer.from(prior.fingerprint).equals(c.fingerprint)) {
    throw requestKeyReused(c.key, 'another route, report or body', 'nothing was done for this one');
  }
  if (prior.status === null) {
    throw new BatchError(
      'IDEMPOTENCY_KEY_IN_USE',
      `Idempotency-Key "${c.key}" names a request that is still running (its claim lasts until ${prior.claimed_until.toISOString()}); send it again once it has answered`,
      { context: { field: 'Idempotency-Key', claimed_until: prior.claimed_until.toISOString() } },
    );
  }
  return { kind: 'answered', status: prior.status, answer: prior.answer };
}

/** Records the answer of the request `owner` claimed `key` for (nothing when its claim was taken over). */
export async function saveReportAnswer(
  db: Queryable,
  a: { key: string; owner: string; status: number; answer: unknown },
): Promise<void> {
  await db.query(
    `UPDATE report_requests SET status = $3, answer = $4
     WHERE request_key = $1 AND owner = $2 AND answer IS NULL`,
    [a.key, a.owner, a.status, JSON.stringify(a.answer)],
  );
}

/** Frees `key` after its request failed before answering, so the same request can be sent again at once. */
export async function releaseReportRequest(db: Queryable, key: string, owner: string): Promise<void> {
  await db.query('DELETE FROM report_requests WHERE request_key = $1 AND owner = $2 AND answer IS NULL', [
    key,
    owner,
  ]);
}
