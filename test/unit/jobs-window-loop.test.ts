// processDueWindows: windows several at a time, outcomes in window order, the first window alone, and a
// stop (time, lock, error) that takes no new window but lets the ones in flight finish.
import test from 'ava';
import type { DueWindow } from '../../shared/aggregate/index.ts';
import type { WindowOutcome } from '../../shared/jobs/index.ts';
import { processDueWindows } from '../../shared/jobs/window-loop.ts';

const windows = (n: number): DueWindow[] =>
  Array.from({ length: n }, (_, i) => ({
    bucket: new Date(Date.UTC(2026, 10, 2, i)),
    end: new Date(Date.UTC(2026, 10, 2, i + 1)),
    changedSeq: i + 1,
    attempts: 0,
  }));

const outcome = (w: DueWindow): WindowOutcome => ({
  level: 'hour',
  bucket: w.bucket.toISOString(),
  end: w.end.toISOString(),
  status: 'succeeded',
  attempt: 1,
  rowsIn: 1,
  rowsOut: 1,
  durationMs: 0,
  runId: 1,
});

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('runs up to `workers` windows at once after the first, and returns outcomes in window order', async (t) => {
  const due = windows(7);
  let inFlight = 0;
  let peak = 0;
  const peaks: number[] = [];
  const { outcomes, timedOut } = await processDueWindows(due, 3, {
    process: async (w) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      peaks.push(inFlight);
      // Later windows finish first, so completion order differs from window order.
      await tick(20 - due.indexOf(w) * 2);
      inFlight -= 1;
      return outcome(w);
    },
    outOfTime: () => false,
    lockLost: () => false,
  });
  t.false(timedOut);
  t.is(peaks[0], 1, 'the first window runs alone');
  t.is(peak, 3);
  t.deepEqual(
    outcomes.map((o) => o.bucket),
    due.map((w) => w.bucket.toISOString()),
  );
});

test('out of time: the first window is still taken, later ones are not', async (t) => {
  const due = windows(5);
  const { outcomes, timedOut } = await processDueWindows(due, 3, {
    process: async (w) => outcome(w),
    outOfTime: () => true,
    lockLost: () => false,
  });
  t.true(timedOut);
  t.is(outcomes.length, 1);
});

test('a lost lock stops taking windows', async (t) => {
  const due = windows(6);
  let lost = false;
  const { outcomes, timedOut } = await processDueWindows(due, 2, {
    process: async (w) => {
      if (due.indexOf(w) === 2) lost = true;
      await tick(5);
      return outcome(w);
    },
    outOfTime: () => false,
    lockLost: () => lost,
  });
  t.false(timedOut);
  t.true(outcomes.length >= 3 && outcomes.length < 6, `took ${outcomes.length}`);
});

test('an error stops the loop after the windows in flight finish, then is rethrown', async (t) => {
  const due = windows(8);
  const finished: number[] = [];
  const error = await t.throwsAsync(
    processDueWindows(due, 3, {
      process: async (w) => {
        const i = due.indexOf(w);
        if (i === 1) throw new Error('ledger down');
        await tick(15);
        finished.push(i);
        return outcome(w);
      },
      outOfTime: () => false,
      lockLost: () => false,
    }),
  );
  t.is(error?.message, 'ledger down');
  // Window 0 ran alone; 2 and 3 were in flight with 1 and finished before the error surfaced; none after.
  t.deepEqual(
    finished.sort((a, b) => a - b),
    [0, 2, 3],
  );
});
