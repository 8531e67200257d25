import pg from 'pg';
import type { PoolClient } from 'pg';
import { inTransaction } from './transaction.ts';
import type { Database } from './types.ts';

// numeric and int8 arrive as strings by default; aggregates are read as numbers, with bigint
// counts far below 2^53 in practice.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export interface PoolOptions {
  connectionString: string;
  max?: number;
  embedded?: boolean;
  onClose?: () => Promise<void>;
}

export function createPoolDatabase(options: PoolOptions): Database {
  const pool = new pg.Pool({ connectionString: options.connectionString, max: options.max ?? 10 });
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const withClient = async <T>(fn: (client: PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try {
      return await fn(client);
    } finally {
      client.release();
    }
  };
  return {
    embedded: options.embedded ?? false,
    query: (text, values) => pool.query(text, values),
    withClient,
    transaction: (fn) => withClient((client) => inTransaction(client, fn)),
    async close() {
      await pool.end();
      await options.onClose?.();
    },
  };
}
