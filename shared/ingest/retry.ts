// One store transaction run again when PostgreSQL broke it off in a way that changed nothing and may pass
// the next time: a deadlock (two batches met each other's new keys or offsets in opposite orders), a
// serialisation failure, a connection lost before COMMIT. Everything the transaction did was rolled back,
// and every store statement is idempotent, so running it again is safe.
import { retryRetriable } from '../errors/index.ts';

// The other party of a deadlock is usually done in a few milliseconds; a restarting server is not.
const POLICY = { attempts: 3, backoffMs: 50 };

export async function retriedTransaction<T>(work: () => Promise<T>): Promise<T> {
  return retryRetriable(work, POLICY);
}
