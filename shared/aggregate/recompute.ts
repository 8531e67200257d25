// Recomputing windows of one level, as one transaction: read their changed_seq, delete their state and bins,
// insert them fresh, record done_seq = the changed_seq read at the start, and re-open the windows above. An
// hour is written from its partials merged (hour-partials.ts) when they hold all its raw rows, else from its
// raw rows (range-state.ts) — and its partials are then replaced by that state, as they are when too many —
// with its quarters where a local day starts inside the hour; rollups come from the stored state below, a day
// after making sure the quarters at its edges are stored. Hours' windows are locked first: a batch storing
// rows in one of them waits for this transaction, then marks the hour changed again (an event ingested
// meanwhile leaves the window dirty). Several windows share the transaction's bookkeeping statements — one
// lock, one read, one delete, one mark for all of them — and each is computed on its own. A window missing
// part of its source is refused, or left removed when the sweep removed its own state too (removed-sources.ts).
import { performance } from 'node:perf_hooks';
import type { PoolClient } from 'pg';
import type { Database } from '../db/index.ts';
import type { CalendarOptions, Level } from './levels.ts';
import { levelsAbove } from './levels.ts';
import { compactPartials, insertHourFromPartials, replacePartialsWithState } from './hour-partials.ts';
import { lockHourWindows, readHourPartials, type HourPartials } from './partials-sql.ts';
import { ensureEdgeQuarters, storeQuartersOfHour } from './quarters.ts';
import { insertRangeState, windowMode, type WindowMode } from './range-state.ts';
import { sourcesToLeaveRemoved, type MissingSource } from './removed-sources.ts';
import {
  deleteWindowsState,
  insertRollupState,
  tuneWindowTransaction,
  type StateCounts,
} from './state-sql.ts';
import { markWindowsDone, markWindowsLeftRemoved, readChangedSeqs } from './windows-sql.ts';

const HOUR_MS = 3_600_000;

export interface RecomputeResult {
  rowsIn: number;
  rowsOut: number;
  /** The changed_seq recorded as done. */
  doneSeq: number;
  /** Time spent computing and writing this window's state (the shared statements not included). */
  computeMs: number;
  /**
   * Set when the window was left removed, not computed: the sweep removed its own state and this part of its
   * source (removed-sources.ts, sourcesToLeaveRemoved); nothing was written, and it is recorded as done.
   */
  leftRemoved?: MissingSource;
}

export interface RecomputeOptions {
  /**
   * Runs last inside the transaction, so what it writes (e.g. the run ledger's success rows) commits with the
   * windows or not at all, and costs no commit of its own. `results` are in the order of the buckets.
   */
  beforeCommit?: (tx: PoolClient, results: RecomputeResult[]) => Promise<void>;
}

async function computeWindow(
  tx: PoolClient,
  level: Level,
  bucket: Date,
  calendar: CalendarOptions,
  mode: WindowMode,
  partials: HourPartials | undefined,
): Promise<StateCounts> {
  if (level === 'day') await ensureEdgeQuarters(tx, bucket, calendar.timeZone, mode);
  if (level !== 'hour') return insertRollupState(tx, level, bucket, calendar.timeZone, mode.prepared);
  let counts: StateCounts;
  if (partials?.complete) {
    counts = await insertHourFromPartials(tx, bucket, partials, mode.prepared);
    await compactPartials(tx, bucket, partials);
  } else {
    counts = await insertRangeState(tx, 'hour', bucket, new Date(bucket.getTime() + HOUR_MS), mode);
    await replacePartialsWithState(tx, bucket, counts.rowsIn);
  }
  await storeQuartersOfHour(tx, bucket, calendar.timeZone, mode);
  return counts;
}

/** Recomputes `buckets` (distinct windows of `level`) in one transaction; results in the buckets' order. */
export async function recomputeWindows(
  db: Database,
  level: Level,
  buckets: readonly Date[],
  calendar: CalendarOptions,
  options: RecomputeOptions = {},
): Promise<RecomputeResult[]> {
  const mode = windowMode(db.embedded);
  return db.transaction(async (tx) => {
    await tuneWindowTransaction(tx, mode.prepared);
    if (level === 'hour') await lockHourWindows(tx, buckets);
    const seqs = await readChangedSeqs(tx, level, buckets);
    // before anything is deleted: a window missing part of its source keeps the state it has (or throws)
    const leave = await sourcesToLeaveRemoved(tx, level, buckets, calendar.timeZone);
    const left = new Map(leave.map((m) => [m.bucket.getTime(), m]));
    const computed = buckets.filter((b) => !left.has(b.getTime()));
    const partials = level === 'hour' && computed.length > 0 ? await readHourPartials(tx, computed) : [];
    if (computed.length > 0) await deleteWindowsState(tx, level, computed);
    const results: RecomputeResult[] = [];
    const done: number[] = [];
    const leftBuckets: Date[] = [];
    const leftSeqs: number[] = [];
    for (const [i, bucket] of buckets.entries()) {
      const doneSeq = seqs[i] ?? 0;
      const leftRemoved = left.get(bucket.getTime());
      if (leftRemoved) {
        results.push({ rowsIn: 0, rowsOut: 0, doneSeq, computeMs: 0, leftRemoved });
        leftBuckets.push(bucket);
        leftSeqs.push(doneSeq);
        continue;
      }
      const started = performance.now();
      const hourPartials = partials[done.length];
      const { rowsIn, rowsOut } = await computeWindow(tx, level, bucket, calendar, mode, hourPartials);
      results.push({ rowsIn, rowsOut, doneSeq, computeMs: performance.now() - started });
      done.push(doneSeq);
    }
    if (computed.length > 0) await markWindowsDone(tx, level, computed, done, levelsAbove(level), calendar);
    if (leftBuckets.length > 0) await markWindowsLeftRemoved(tx, level, leftBuckets, leftSeqs);
    await options.beforeCommit?.(tx, results);
    return results;
  });
}

/** One window in its own transaction (recomputeWindows of one bucket). */
export async function recomputeWindow(
  db: Database,
  level: Level,
  bucket: Date,
  calendar: CalendarOptions,
  options: { beforeCommit?: (tx: PoolClient, result: RecomputeResult) => Promise<void> } = {},
): Promise<RecomputeResult> {
  const [result] = await recomputeWindows(db, level, [bucket], calendar, {
    beforeCommit: async (tx, [only]) => options.beforeCommit?.(tx, only!),
  });
  return result!;
}
