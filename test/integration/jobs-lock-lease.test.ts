// A job lock is kept while one step of a run outlasts its lease. The aggregation refreshed its lock only
// between windows, so one long window (a raw recompute, a short configured lockLeaseMs) let a second
// invocation take the lock over as stale and work on the same windows. Real PostgreSQL only: the held window's
// transaction keeps a connection, and the refresh and the second invocation need others (PGlite has one).
import type { PoolClient, QueryResultRow } from 'pg';
import type { Database } from '../../shared/db/index.ts';
import { runAggregation, type AggregationSummary } from '../../shared/jobs/index.ts';
import { freshPgDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';
import { deps, storeTestEvents } from './aggregate-fixtures.ts';

const pgTest = serviceTest('postgres');
const LATER = new Date('2026-12-05T00:00:00Z');

/**
 * `db` whose first window transaction stops once it has locked its hours (lockHourWindows, the one
 * `FOR UPDATE` of a recompute) until release(): a window that runs long. `inside` resolves when it is there.
 */
function heldInFirstWindow(db: Database): { db: Database; inside: Promise<void>; release: () => void } {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  let entered: (() => void) | undefined;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  const holding = (tx: PoolClient): PoolClient =>
    new Proxy(tx, {
      get: (target, prop) => {
        if (prop === 'query') {
          return async (text: string, values?: unknown[]) => {
            const result = await target.query(text, values);
            if (entered && /\bFOR UPDATE\b/.test(text)) {
              const enter = entered;
              entered = undefined;
              enter();
              await held;
            }
            return result;
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  const wrapped: Database = {
    embedded: db.embedded,
    query: <R extends QueryResultRow>(text: string, values?: unknown[]) => db.query<R>(text, values),
    withClient: (fn) => db.withClient(fn),
    transaction: (fn) => db.transaction((tx) => fn(holding(tx))),
    close: () => db.close(),
  };
  return { db: wrapped, inside, release: () => release() };
}

pgTest(
  'a window that outlasts the lock lease keeps the lock: a second run then answers already_running',
  async (t) => {
    const { db, drop } = await freshPgDatabase();
    t.teardown(drop);
    await storeTestEvents(
      db,
      [1, 2].map((h) => ({
        ts: new Date(Date.parse('2026-11-02T00:00:00Z') + h * 3_600_000),
        metrics: { latency_ms: 10 },
      })),
    );
    // a lease long enough that a loaded machine still refreshes it in time (every 375 ms), short enough to wait out
    const lease = { lockLeaseMs: 1_500 };
    const held = heldInFirstWindow(db);
    const first = runAggregation(deps(held.db, lease), { level: 'hour', trigger: 'cron', now: LATER });
    await held.inside;
    // three leases inside one window: refreshed only between windows, the lock looks stale and is taken over
    await new Promise((resolve) => setTimeout(resolve, 3 * lease.lockLeaseMs));
    const secondRun = runAggregation(deps(db, lease), { level: 'hour', trigger: 'http', now: LATER });
    // a run that took the lock over would wait on the hours the first one holds locked: give it a bound
    const second = await Promise.race([
      secondRun,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 8_000)),
    ]);
    held.release();
    const done = await first;
    const late: AggregationSummary | undefined = await secondRun.catch(() => undefined);
    t.log({
      second: second?.status ?? 'still waiting after 8 s',
      first: [done.status, done.error?.code],
      lateSecond: late && [late.status, late.windowsDone],
    });
    t.is(second?.status, 'already_running', `the lock was taken over while the first run held a window`);
    t.is(second?.windowsDone, 0);
    t.is(done.status, 'succeeded', JSON.stringify(done.error));
    t.deepEqual(
      done.windows.map((w) => [w.bucket, w.status]),
      [
        ['2026-11-02T01:00:00.000Z', 'succeeded'],
        ['2026-11-02T02:00:00.000Z', 'succeeded'],
      ],
    );
    t.is(late?.windowsDone ?? 0, 0, 'a second run that took the lock over recomputed the same hours');
    const { rows } = await db.query<{ trigger: string; status: string; reason: string | null }>(
      `SELECT trigger, status, details->>'reason' AS reason FROM runs WHERE window_start IS NULL ORDER BY id`,
    );
    t.deepEqual(rows, [
      { trigger: 'cron', status: 'succeeded', reason: null },
      { trigger: 'http', status: 'skipped', reason: 'already_running' },
    ]);
  },
);
