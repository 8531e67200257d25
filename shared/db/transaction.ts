import type { PoolClient } from 'pg';

// Connections whose session state is unknown: a ROLLBACK (or another cleanup statement) failed on them,
// so they may still sit in a transaction or hold a session lock. The pool destroys them on release
// instead of handing them to the next caller (pool.ts).
const unusable = new WeakSet<object>();

/** Marks `client` so that releasing it closes it rather than returning it to the pool. */
export function markUnusable(client: object): void {
  unusable.add(client);
}

export function isUnusable(client: object): boolean {
  return unusable.has(client);
}

/** The snapshot an export reads from: one consistent view however many statements it takes. */
export const BEGIN_READ_ONLY_SNAPSHOT = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';

export async function inTransaction<T>(
  client: PoolClient,
  fn: (client: PoolClient) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  await client.query(begin);
  try {
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // The error to report is the one that aborted the transaction; a failed ROLLBACK leaves the session
    // dirty, so the connection is dropped instead of being reused.
    await client.query('ROLLBACK').catch(() => markUnusable(client));
    throw err;
  }
}
