// A connection whose cleanup failed (ROLLBACK after an error) is in an unknown state — possibly still in a
// transaction — and must be closed, never handed to the next caller. The pool is a fake here: the point
// is what the pool layer does with the client when it releases it.
import test from 'ava';
import type { PoolClient } from 'pg';
import { createPoolDatabase } from '../../shared/db/index.ts';
import { isRetriable } from '../../shared/errors/index.ts';
import type { PoolLike } from '../../shared/db/types.ts';

function fakePool(failRollback: boolean) {
  const released: Array<Error | boolean | undefined> = [];
  const statements: string[] = [];
  const client = {
    query: async (text: string) => {
      statements.push(text);
      if (text === 'SELECT boom') throw new Error('boom');
      // What pg rejects the query in flight with when the server closes the socket (no SQLSTATE).
      if (text === 'SELECT gone') throw new Error('Connection terminated unexpectedly');
      if (text === 'ROLLBACK' && failRollback) throw new Error('connection lost during rollback');
      return { rows: [], rowCount: 0 };
    },
    release: (err?: Error | boolean) => void released.push(err),
    // the pool layer listens for a lost connection while it holds the client
    on: () => undefined,
    off: () => undefined,
  } as unknown as PoolClient;
  const pool: PoolLike = {
    query: async () => ({ rows: [], rowCount: 0 }) as never,
    connect: async () => client,
    end: async () => undefined,
    on: () => undefined,
  };
  return { pool, released, statements };
}

test('a failed ROLLBACK closes the connection on release; the caller sees the original error', async (t) => {
  const { pool, released, statements } = fakePool(true);
  const db = createPoolDatabase({ pool });
  const err = await t.throwsAsync(db.transaction((c) => c.query('SELECT boom')));
  t.is(err.message, 'boom', 'the error that aborted the transaction, not the rollback’s');
  t.deepEqual(statements, ['BEGIN', 'SELECT boom', 'ROLLBACK']);
  t.is(released.length, 1);
  t.true(
    released[0] instanceof Error,
    'released with an error: pg destroys the client instead of pooling it',
  );
});

test('a transaction that rolled back cleanly returns its connection to the pool', async (t) => {
  const { pool, released } = fakePool(false);
  const db = createPoolDatabase({ pool });
  await t.throwsAsync(db.transaction((c) => c.query('SELECT boom')));
  await db.transaction((c) => c.query('SELECT 1'));
  t.deepEqual(released, [undefined, undefined]);
});

test('a query cut off by the server closing the socket is DB_CONNECTION_LOST (retriable), its connection closed', async (t) => {
  const { pool, released } = fakePool(false);
  const db = createPoolDatabase({ pool });
  const err = await t.throwsAsync(db.query('SELECT gone'));
  t.is((err as { code?: string }).code, 'DB_CONNECTION_LOST');
  t.true(isRetriable(err));
  t.true(released[0] instanceof Error, 'the connection is not handed to the next caller');
  const other = await t.throwsAsync(db.query('SELECT boom'));
  t.is(other.message, 'boom', 'an ordinary error stays what it is');
});

test('a connection the server closes during the handshake is DB_CONNECT_FAILED (retriable)', async (t) => {
  const { pool } = fakePool(false);
  const db = createPoolDatabase({
    pool: { ...pool, connect: () => Promise.reject(new Error('Connection terminated unexpectedly')) },
  });
  const err = await t.throwsAsync(db.query('SELECT 1'));
  t.is((err as { code?: string }).code, 'DB_CONNECT_FAILED');
  t.true(isRetriable(err));
});
