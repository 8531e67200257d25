import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import type { PoolClient } from 'pg';
import { BatchError } from '../errors/index.ts';
import { inTransaction, isUnusable } from './transaction.ts';
import type { Database, PoolFactory, PoolLike } from './types.ts';

// numeric and int8 arrive as strings by default; aggregates are read as numbers, with bigint
// counts far below 2^53 in practice. (This configures `pg`; a swapped-in driver parses on its own.)
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/** The default driver: node-postgres. */
export const pgPoolFactory: PoolFactory = (config) => new pg.Pool(config);

export interface PoolDatabaseOptions {
  pool: PoolLike;
  embedded?: boolean;
  onClose?: () => Promise<void>;
}

/**
 * Wraps a pool as a Database. In embedded mode the pool has one connection, so a `db.*` call made while
 * the same call chain holds it (inside withClient/transaction) would wait for itself forever: an
 * AsyncLocalStorage marks the holder and such a call fails at once with DB_EMBEDDED_NESTED_CONNECTION.
 * Calls from independent callers simply queue for the connection.
 */
export function createPoolDatabase(options: PoolDatabaseOptions): Database {
  const { pool } = options;
  const embedded = options.embedded ?? false;
  const holder = new AsyncLocalStorage<{ held: boolean }>();
  let closing: Promise<void> | undefined;
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);

  const assertFree = (call: string): void => {
    if (embedded && holder.getStore()?.held) {
      throw new BatchError(
        'DB_EMBEDDED_NESTED_CONNECTION',
        `db.${call}() was called inside withClient/transaction on the embedded database, which has one ` +
          'connection and this call chain already holds it, so it would wait forever; ' +
          'run the query on the client passed to your callback instead',
        { context: { call } },
      );
    }
  };

  const withClient = async <T>(fn: (client: PoolClient) => Promise<T>): Promise<T> => {
    assertFree('withClient');
    const client = await pool.connect();
    const slot = { held: true };
    try {
      return await holder.run(slot, () => fn(client));
    } finally {
      slot.held = false;
      // A connection left in an unknown state (failed ROLLBACK or unlock) is closed, never handed on.
      client.release(
        isUnusable(client) ? new Error('session state unknown; connection discarded') : undefined,
      );
    }
  };

  return {
    embedded,
    async query(text, values) {
      assertFree('query');
      // pool.query() destroys the connection of a query that failed; against the embedded server, which
      // takes one connection, the next query's connect then races the old socket's close and is refused
      // ("Connection terminated unexpectedly"). Through withClient a failed query keeps its connection.
      return embedded ? withClient((client) => client.query(text, values)) : pool.query(text, values);
    },
    withClient,
    transaction: (fn) => withClient((client) => inTransaction(client, fn)),
    // Idempotent: a second close waits for the first.
    close() {
      closing ??= (async () => {
        await pool.end();
        await options.onClose?.();
      })();
      return closing;
    },
  };
}
