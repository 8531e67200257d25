// One store transaction run again when PostgreSQL broke it off in a way that changed nothing and may pass
// the next time: a deadlock (two batches met each other's new keys or offsets in opposite orders), a
// serialisation failure, a lost connection. Everything the transaction did was rolled back — unless the
// connection went during COMMIT, when it may have committed; every store statement is idempotent, so running
// it again is safe either way (a rerun after such a commit finds its rows known, and a push with a request
// key finds its answer).
import { retryRetriable } from '../errors/index.ts';

// The other party of a deadlock is usually done in a few milliseconds; a restarting server is not.
const POLICY = { attempts: 3, backoffMs: 50 };

export async function retriedTransaction<T>(work: () => Promise<T>): Promise<T> {
  return retryRetriable(work, POLICY);
}
