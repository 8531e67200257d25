// keepJobLock against a stand-in database: it refreshes on its timer while the run does something else, keeps
// trying after a failed refresh, marks the lock lost when the row is no longer ours, runs one refresh at a time,
// and refreshes nothing once stopped. The real statement is held to PostgreSQL by the lease tests in
// test/integration (jobs-aggregation, retention-faults).
import test from 'ava';
import type { QueryResultRow } from 'pg';
import type { Queryable } from '../../shared/db/index.ts';
import { keepJobLock } from '../../shared/jobs/index.ts';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A database whose job_locks UPDATE answers `rowCount()` (or throws it) after `delayMs`. */
function standIn(rowCount: () => number, delayMs = 0): Queryable & { calls: number; concurrent: number } {
  let running = 0;
  const db = {
    calls: 0,
    concurrent: 0,
    query: async <R extends QueryResultRow>() => {
      db.calls += 1;
      running += 1;
      db.concurrent = Math.max(db.concurrent, running);
      try {
        await tick(delayMs);
        return { rows: [] as R[], rowCount: rowCount(), command: 'UPDATE', oid: 0, fields: [] };
      } finally {
        running -= 1;
      }
    },
  };
  return db;
}

function warnings(): { warn: (obj: object, msg?: string) => void; seen: string[] } {
  const seen: string[] = [];
  return { warn: (_obj, msg) => seen.push(msg ?? ''), seen };
}

test('refreshes every quarter of the lease while the run is busy, and not after stop()', async (t) => {
  const db = standIn(() => 1);
  const keeper = keepJobLock(db, 'aggregate-hour', 'me', 400);
  await tick(450); // ticks at ~100, 200, 300, 400 ms
  t.true(db.calls >= 2, `${db.calls} refreshes in 450 ms`);
  await keeper.stop();
  const atStop = db.calls;
  await tick(300);
  t.is(db.calls, atStop);
  t.false(keeper.lost());
});

test('a failed refresh is a warning and is tried again at the next tick', async (t) => {
  let fail = true;
  const db = standIn(() => {
    if (fail) throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
    return 1;
  });
  const log = warnings();
  const keeper = keepJobLock(db, 'retention-sweep', 'me', 400, log);
  try {
    await tick(150);
    t.deepEqual(log.seen.slice(0, 1), ['could not refresh the job lock; trying again']);
    fail = false;
    const before = db.calls;
    await tick(250);
    t.true(db.calls > before, 'the timer kept going after the failure');
    t.false(keeper.lost(), 'a failed refresh is not a lost lock');
  } finally {
    await keeper.stop();
  }
});

test('a refresh that finds the row taken over marks the lock lost and the timer stops refreshing', async (t) => {
  const db = standIn(() => 0);
  const keeper = keepJobLock(db, 'aggregate-hour', 'me', 400);
  try {
    await tick(150);
    t.true(keeper.lost());
    const atLoss = db.calls;
    await tick(250);
    t.is(db.calls, atLoss);
  } finally {
    await keeper.stop();
  }
});

test('beat() refreshes at once on the queryable it is given, and throws what the query throws', async (t) => {
  const db = standIn(() => 1);
  const tx = standIn(() => 0);
  const keeper = keepJobLock(db, 'aggregate-hour', 'me', 60_000);
  try {
    await keeper.beat(tx);
    t.is(tx.calls, 1);
    t.is(db.calls, 0);
    t.true(keeper.lost(), 'the refresh inside the window found the row not ours');
    const failing = standIn(() => {
      throw new Error('no connection');
    });
    await t.throwsAsync(keeper.beat(failing), { message: 'no connection' });
  } finally {
    await keeper.stop();
  }
});

test('one refresh at a time: a slow one is not overlapped, and stop() waits for it', async (t) => {
  let finished = 0;
  const slow = standIn(() => {
    finished += 1;
    return 1;
  }, 250);
  const keeper = keepJobLock(slow, 'aggregate-hour', 'me', 200); // a tick every 50 ms
  await tick(120);
  t.is(slow.calls, 1, 'the ticks during the first refresh started none');
  await keeper.stop();
  t.is(finished, 1, 'stop() returned after the refresh in flight');
  t.is(slow.concurrent, 1);
});
