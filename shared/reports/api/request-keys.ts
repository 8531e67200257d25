// An Idempotency-Key on the /reports routes that do work a client must not get twice (a generation, e-mails):
// the request is run under a claim of its key and its answer kept, so the same request sent again after a lost
// answer is answered from what the first one did. Checked after the request itself, so a refused request
// (a bad body, a period not over) leaves no key behind and can be corrected under the same key.
import { createHash } from 'node:crypto';
import type { Database } from '../../db/index.ts';
import { newLockOwner } from '../../jobs/index.ts';
import type { ReportLogger } from '../generate.ts';
import { claimReportRequest, releaseReportRequest, saveReportAnswer } from '../store/requests-sql.ts';

export interface KeyedAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * What a request did: its answer, and whether that answer is final. It is not when part of the work was left
 * to another run (a report another generation held): the key is then freed instead of answered, so the
 * same request sent again does what was left, rather than replay an answer that did not do it.
 */
export interface RequestOutcome {
  answer: KeyedAnswer;
  final: boolean;
}

export interface RequestKeyDeps {
  db: Database;
  /** How long a claim holds before a request sent again may take it over (the reports' lease). */
  leaseMs: number;
  now: Date;
  log?: ReportLogger | undefined;
}

/**
 * Runs `work` once per key: without a key it simply runs; with one, an answered key returns its answer (with
 * `Idempotent-Replayed: true`), and otherwise `work` runs under the claim and its answer is kept. `asked` is
 * what the request asked, parsed (the route and its body): the same key with anything else is refused.
 */
export async function answerOnce(
  deps: RequestKeyDeps,
  key: string | undefined,
  asked: unknown,
  work: (key: string | undefined) => Promise<RequestOutcome>,
): Promise<KeyedAnswer> {
  if (key === undefined) return (await work(undefined)).answer;
  const fingerprint = createHash('sha256').update(JSON.stringify(asked)).digest();
  const owner = newLockOwner();
  const claim = await claimReportRequest(deps.db, {
    key,
    fingerprint,
    owner,
    now: deps.now,
    leaseMs: deps.leaseMs,
  });
  if (claim.kind === 'answered') {
    return { status: claim.status, body: claim.answer, headers: { 'idempotent-replayed': 'true' } };
  }
  // nothing to replay: the key is freed, so the request can be sent again at once instead of after the lease
  const release = () =>
    releaseReportRequest(deps.db, key, owner).catch((e: unknown) =>
      deps.log?.warn({ err: e, key }, 'could not free an Idempotency-Key; it frees at its lease'),
    );
  let outcome: RequestOutcome;
  try {
    outcome = await work(key);
  } catch (err) {
    await release();
    throw err;
  }
  const { answer, final } = outcome;
  if (final) await saveReportAnswer(deps.db, { key, owner, status: answer.status, answer: answer.body });
  else await release();
  return answer;
}
