// The windows of one invocation, oldest first, several at a time: each worker takes the oldest window not yet
// taken until none is left, the run is out of time or its job lock is lost. The first window runs alone and is
// always taken, so a run whose set-up (lock, ingestion hook) alone used up its time still makes progress —
// one window — instead of starving every later run the same way.
import type { DueWindow } from '../aggregate/index.ts';
import type { WindowOutcome } from './types.ts';

export interface WindowLoop {
  /** Processes one window. A thrown error stops the loop once the windows in flight are done, and is rethrown. */
  process: (window: DueWindow) => Promise<WindowOutcome>;
  /** Checked before taking each window after the first. */
  outOfTime: () => boolean;
  /** Checked before taking each window; the loop stops when it turns true. */
  lockLost: () => boolean;
}

export interface WindowLoopResult {
  /** The outcomes of the windows taken, in the windows' order whatever order they finished in. */
  outcomes: WindowOutcome[];
  timedOut: boolean;
}

export async function processDueWindows(
  due: readonly DueWindow[],
  workers: number,
  loop: WindowLoop,
): Promise<WindowLoopResult> {
  const outcomes: (WindowOutcome | undefined)[] = new Array<WindowOutcome | undefined>(due.length);
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
        outcomes[index] = await loop.process(due[index] as DueWindow);
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
  return { outcomes: outcomes.filter((o): o is WindowOutcome => o !== undefined), timedOut };
}
