// The windows of one invocation, oldest first, several at a time: each worker takes the oldest unit (a window,
// or a batch of windows sharing a transaction) not yet taken until none is left, the run is out of time or its
// job lock is lost. The first unit runs alone and is always taken, so a run whose set-up (lock, ingestion
// hook) alone used up its time still makes progress instead of starving every later run the same way.

export interface WindowLoop<Unit, Outcome> {
  /** Processes one unit. A thrown error stops the loop once the units in flight are done, and is rethrown. */
  process: (unit: Unit) => Promise<Outcome>;
  /** Checked before taking each unit after the first. */
  outOfTime: () => boolean;
  /** Checked before taking each unit; the loop stops when it turns true. */
  lockLost: () => boolean;
}

export interface WindowLoopResult<Outcome> {
  /** The outcomes of the units taken, in the units' order whatever order they finished in. */
  outcomes: Outcome[];
  timedOut: boolean;
}

export async function processDueWindows<Unit, Outcome>(
  due: readonly Unit[],
  workers: number,
  loop: WindowLoop<Unit, Outcome>,
): Promise<WindowLoopResult<Outcome>> {
  const outcomes: (Outcome | undefined)[] = new Array<Outcome | undefined>(due.length);
  let next = 0;
  let timedOut = false;
  let failed = false;
  let failure: unknown;
  const work = async (limit: number): Promise<void> => {
    while (next < limit && !timedOut && !failed && !loop.lockLost()) {
      if (next > 0 && loop.outOfTime()) {
        timedOut = true;
        break;
      }
      const index = next++;
      try {
        outcomes[index] = await loop.process(due[index] as Unit);
      } catch (err) {
        if (!failed) failure = err;
        failed = true;
      }
    }
  };
  await work(Math.min(1, due.length));
  const rest = Math.max(0, Math.min(workers, due.length - next));
  await Promise.all(Array.from({ length: rest }, () => work(due.length)));
  if (failed) throw failure;
  return { outcomes: outcomes.filter((o): o is Outcome => o !== undefined), timedOut };
}
