// Work run again while it fails with an error that may pass the next time (isRetriable: a lost connection,
// a deadlock, a restarting server), with a growing pause between attempts; any other error, or the last
// attempt's, is thrown. The callers say why running their work twice is safe.
import { isRetriable } from './retriable.ts';

export interface RetryPolicy {
  attempts: number;
  /** The pause after attempt n is n × this. */
  backoffMs: number;
}

export async function retryRetriable<T>(work: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= policy.attempts || !isRetriable(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, policy.backoffMs * attempt));
    }
  }
}
