import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import type { PoolClient } from 'pg';
import { BatchError, isRetriable } from '../errors/index.ts';
import { inTransaction, isUnusable } from './transaction.ts';
import type { Database, PoolFactory, PoolLike } from './types.ts';

// numeric and int8 arrive as strings by default; aggregates are read as numbers, with bigint
// counts far below 2^53 in practice. (This configures `pg`; a swapped-in driver parses on its own.)
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/** Socket errors of a server that went away under a client (no SQLSTATE: the socket itself failed). */
const SOCKET_GONE = new Set(['ECONNRESET', 'EPIPE']);

/**
 * A server that is going away: SQLSTATE 57P01-03 (shutdown, crash, starting) or class 08 (connection), a
 * socket that failed, or pg's own message for a socket the server closed.
 */
function isServerGone(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return /^(57P0[123]|08...)$/.test(code) || SOCKET_GONE.has(code);
  // pg rejects the query in flight with this, without a code, when the server closes the socket; its
  // 'error' event on the client may come only after the rejection has reached us.
  return err instanceof Error && /^Connection terminated( unexpectedly)?$/.test(err.message);
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? `${e.code}: ` : '';
  return `${code}${typeof e?.message === 'string' ? e.message : String(err)}`;
}

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

  /**
   * Runs `fn` on a pooled client. A server that goes away mid-request (a restart, a failover, a crash)
   * must neither end the process — pg emits 'error' on a checked-out client whose socket dies, and an
   * 'error' event without a listener throws — nor surface as "a bug": it becomes DB_CONNECT_FAILED (could
   * not connect) or DB_CONNECTION_LOST (lost during the request; nothing of it committed), both retriable
   * 503s, and the broken client is discarded rather than returned to the pool.
   */
  const onClient = async <T>(fn: (client: PoolClient) => Promise<T>): Promise<T> => {
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      // A server shutting down may take the connection and close it during the handshake: pg then rejects
      // the connect with "Connection terminated unexpectedly", without a code.
      if (!isRetriable(err) && !isServerGone(err)) throw err;
      throw new BatchError(
        'DB_CONNECT_FAILED',
        `PostgreSQL cannot be reached (${describe(err)}); send the request again once the database is back (every write is idempotent)`,
        { cause: err },
      );
    }
    let lost: Error | undefined;
    const onError = (err: Error): void => {
      lost = err;
    };
    client.on('error', onError);
    const slot = { held: true };
    try {
      return await holder.run(slot, () => fn(client));
    } catch (err) {
      const gone = lost ?? (isServerGone(err) ? (err as Error) : undefined);
      if (gone === undefined) throw err;
      lost = gone;
      throw new BatchError(
        'DB_CONNECTION_LOST',
        `the connection to PostgreSQL was lost during the request (${describe(gone)}); the transaction in ` +
          'progress was not committed — send the request again (every write is idempotent)',
        { cause: err },
      );
    } finally {
      slot.held = false;
      client.off('error', onError);
      // A connection lost, or left in an unknown state (failed ROLLBACK or unlock), is closed, never handed on.
      client.release(
        lost ?? (isUnusable(client) ? new Error('session state unknown; connection discarded') : undefined),
      );
    }
  };

  const withClient = async <T>(fn: (client: PoolClient) => Promise<T>): Promise<T> => {
    assertFree('withClient');
    return onClient(fn);
  };

  return {
    embedded,
    async query(text, values) {
      assertFree('query');
      // On a checked-out client, not pool.query(): a lost server becomes DB_CONNECTION_LOST (onClient), and
      // against the embedded server, which takes one connection, pool.query() destroying a failed query's
      // connection made the next connect race the old socket's close and be refused.
      return onClient((client) => client.query(text, values));
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
