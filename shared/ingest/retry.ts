// One store transaction run again when PostgreSQL broke it off in a way that changed nothing and may pass
// the next time: a deadlock (two batches met each other's new keys or offsets in opposite orders), a
// serialisation failure, a connection lost before COMMIT. Everything the transaction did was rolled back,
// and every store statement is idempotent, so running it again is safe.
import { isRetriable } from '../errors/index.ts';

const ATTEMPTS = 3;
const BACKOFF_MS = 50;

export async function retriedTransaction<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= ATTEMPTS || !isRetriable(err)) throw err;
      // The other party of a deadlock is usually done in a few milliseconds; a restarting server is not.
      await new Promise((resolve) => setTimeout(resolve, BACKOFF_MS * attempt));
    }
  }
}
