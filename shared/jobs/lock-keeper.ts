// keepJobLock: keeps a job lock (lock.ts) fresh for as long as a run holds it. Runs refresh the lock between
// their steps (windows, retention units), but one step can outlast the lease — a long raw recompute, a day's
// export, a short configured lease — and a second invocation would then take the lock over as stale and work
// on the same windows. So the keeper also refreshes it on a timer, every quarter of the lease, while a step runs.
import type { Queryable } from '../db/index.ts';
import { heartbeatJobLock } from './lock.ts';
import type { JobLogger } from './types.ts';

export interface JobLockKeeper {
  /**
   * Refreshes the lease now: on `q` when given (a window's transaction, so the refresh commits with the
   * window), else on the database the keeper was made with. Throws what the query throws. A refresh that
   * finds the row no longer ours marks the lock lost.
   */
  beat(q?: Queryable): Promise<void>;
  /** true once a refresh found the lock taken over as stale: the holder must take no further work. */
  lost(): boolean;
  /**
   * Stops the timer and waits for a refresh in flight, so none runs after the run has released its lock or
   * closed its database. Call it in a finally. Never rejects.
   */
  stop(): Promise<void>;
}

/** A quarter of a very short lease (tests) would be a query every few milliseconds. */
const MIN_INTERVAL_MS = 50;

export function keepJobLock(
  db: Queryable,
  job: string,
  owner: string,
  leaseMs: number,
  log?: Pick<JobLogger, 'warn'>,
): JobLockKeeper {
  let lost = false;
  let inFlight: Promise<void> | undefined;
  const beat = async (q: Queryable = db): Promise<void> => {
    if (!(await heartbeatJobLock(q, job, owner))) lost = true;
  };
  // A quarter of the lease makes three refreshes per lease: one that fails (the database briefly unreachable) or
  // waits is made up for before the lock looks stale.
  const timer = setInterval(
    () => {
      // One at a time: on the embedded database, whose one connection a long window holds, refreshes would queue.
      if (inFlight !== undefined || lost) return;
      inFlight = beat()
        .catch((err: unknown) => log?.warn({ err, job }, 'could not refresh the job lock; trying again'))
        .finally(() => {
          inFlight = undefined;
        });
    },
    Math.max(MIN_INTERVAL_MS, leaseMs / 4),
  );
  // A run that never reaches stop() (the process is ending anyway) must not be kept alive by its timer.
  timer.unref();
  return {
    beat,
    lost: () => lost,
    stop: async () => {
      clearInterval(timer);
      await inFlight;
    },
  };
}
