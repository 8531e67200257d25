// Recomputing one window, as one transaction: read changed_seq, delete the window's state and bins, insert
// them fresh (hours from raw events by range-state.ts, with their quarters where a local day starts inside
// the hour; rollups from the stored state below, a day after making sure the quarters at its edges are
// stored), record done_seq = the changed_seq read at the start (an event ingested meanwhile leaves the
// window dirty), and re-open the windows above.
import type { PoolClient } from 'pg';
import type { Database } from '../db/index.ts';
import type { CalendarOptions, Level } from './levels.ts';
import { levelsAbove } from './levels.ts';
import { ensureEdgeQuarters, storeQuartersOfHour } from './quarters.ts';
import { insertRangeState, windowMode } from './range-state.ts';
import { deleteWindowState, insertRollupState, tuneWindowTransaction } from './state-sql.ts';
import { markWindowDone, readChangedSeq } from './windows-sql.ts';

const HOUR_MS = 3_600_000;

export interface RecomputeResult {
  rowsIn: number;
  rowsOut: number;
  /** The changed_seq recorded as done. */
  doneSeq: number;
}

export interface RecomputeOptions {
  /**
   * Runs last inside the window's transaction, so what it writes (e.g. the run ledger's success row) commits
   * with the window or not at all, and the window costs one commit instead of two.
   */
  beforeCommit?: (tx: PoolClient, result: RecomputeResult) => Promise<void>;
}

export async function recomputeWindow(
  db: Database,
  level: Level,
  bucket: Date,
  calendar: CalendarOptions,
  options: RecomputeOptions = {},
): Promise<RecomputeResult> {
  const mode = windowMode(db.embedded);
  return db.transaction(async (tx) => {
    await tuneWindowTransaction(tx, mode.prepared);
    // A window without a row (a direct call) gets one, so there is a changed_seq to record.
    let seq = await readChangedSeq(tx, level, bucket);
    if (seq === undefined) {
      await tx.query(
        `INSERT INTO aggregation_windows (level, bucket, changed_seq) VALUES ($1, $2, nextval('window_change_seq'))
         ON CONFLICT (level, bucket) DO NOTHING`,
        [level, bucket],
      );
      seq = (await readChangedSeq(tx, level, bucket)) ?? 0;
    }
    await deleteWindowState(tx, level, bucket);
    if (level === 'day') await ensureEdgeQuarters(tx, bucket, calendar.timeZone, mode);
    const { rowsIn, rowsOut } =
      level === 'hour'
        ? await insertRangeState(tx, 'hour', bucket, new Date(bucket.getTime() + HOUR_MS), mode)
        : await insertRollupState(tx, level, bucket, calendar.timeZone, mode.prepared);
    if (level === 'hour') await storeQuartersOfHour(tx, bucket, calendar.timeZone, mode);
    await markWindowDone(tx, level, bucket, seq, levelsAbove(level), calendar);
    const result: RecomputeResult = { rowsIn, rowsOut, doneSeq: seq };
    await options.beforeCommit?.(tx, result);
    return result;
  });
}
