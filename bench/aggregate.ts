// Measurements 2 and 3: the hourly aggregation (runAggregation, every hour dirty after ingest) against one
// plain GROUP BY with exact percentiles over the same rows; and the day/week/month rollups, whose cost
// should follow the number of buckets, not of events.
import { performance } from 'node:perf_hooks';
import { DEFAULT_CALENDAR, markRangeDirty } from '../shared/aggregate/index.ts';
import { WINDOW_WORK_MEM } from '../shared/aggregate/state-sql.ts';
import type { Database } from '../shared/db/index.ts';
import { DEFAULT_JOB_OPTIONS, runAggregation, type AggregationSummary } from '../shared/jobs/index.ts';
import { baselineSql, compareSql } from './baseline-sql.ts';
import type { Span } from './dataset.ts';

const BASELINE_TABLE = 'bench_hourly_baseline';

export interface AggregationMeasurement {
  ms: number;
  windows: number;
  failed: number;
  rowsIn: number;
  rowsOut: number;
  status: string;
  /**
   * Sum of the windows' own times (their recompute transactions). Windows run several at a time
   * (DEFAULT_WINDOW_CONCURRENCY), so this sum exceeds `ms`; it is not a share of it.
   */
  windowMs: number;
}

export interface BaselineMeasurement {
  /** The faster of the two runs below. */
  ms: number;
  /** With the server's settings (jit = on by default). */
  msJitOn: number;
  msJitOff: number;
  rows: number;
  /** Series found in both, and in only one of, the baseline and hourly_aggregations. */
  matched: number;
  onlyHourly: number;
  onlyBaseline: number;
  /** Largest relative error of the sketch's p50/p95/p99 against percentile_cont, latency_ms series. */
  maxQuantileRelError: number | null;
}

/**
 * Untimed: settles the freshly loaded rows (hint bits, visibility map, statistics) for both contenders, then
 * writes out what COPY and VACUUM dirtied — at 10M several GB, which the checkpointer would otherwise still be
 * writing while whichever contender runs first is timed. CHECKPOINT needs pg_checkpoint (scripts/services
 * grants it); on a server where the role lacks it the step goes without.
 */
export async function settleRawEvents(db: Database): Promise<void> {
  await db.query('VACUUM (ANALYZE) raw_events');
  await db.query('ANALYZE event_keys');
  await db.query('CHECKPOINT').catch((err: unknown) => {
    if ((err as { code?: unknown }).code !== '42501') throw err;
  });
}

function measured(summary: AggregationSummary, ms: number): AggregationMeasurement {
  return {
    ms,
    windows: summary.windowsDone + summary.windowsFailed,
    failed: summary.windowsFailed,
    rowsIn: summary.rowsIn,
    rowsOut: summary.rowsOut,
    status: summary.status,
    windowMs: summary.windows.reduce((n, w) => n + w.durationMs, 0),
  };
}

export async function measureHourly(db: Database, timeZone = 'UTC'): Promise<AggregationMeasurement> {
  const started = performance.now();
  const summary = await runAggregation(
    { db, options: { ...DEFAULT_JOB_OPTIONS, timeZone } },
    { level: 'hour', trigger: 'manual' },
  );
  return measured(summary, performance.now() - started);
}

/** Runs the baseline on one connection (its result is a temp table), then compares and drops it. */
export async function measureBaseline(
  db: Database,
  span: Span,
  compare: boolean,
): Promise<BaselineMeasurement> {
  return db.withClient(async (client) => {
    // Once with the server's settings and once without JIT (whose compile time can dominate a one-off
    // statement); the faster is the reference, so the yardstick is never handicapped. It also gets the
    // work_mem the aggregation gives its windows.
    await client.query(`SET work_mem = '${WINDOW_WORK_MEM}'`);
    const times: Record<'jitOn' | 'jitOff', number> = { jitOn: 0, jitOff: 0 };
    for (const variant of ['jitOn', 'jitOff'] as const) {
      await client.query(`DROP TABLE IF EXISTS ${BASELINE_TABLE}`);
      await client.query(variant === 'jitOff' ? 'SET jit = off' : 'RESET jit');
      const started = performance.now();
      await client.query(baselineSql(BASELINE_TABLE, span.start, span.end));
      times[variant] = performance.now() - started;
    }
    await client.query('RESET jit; RESET work_mem');
    const ms = Math.min(times.jitOn, times.jitOff);
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${BASELINE_TABLE}`);
    const result: BaselineMeasurement = {
      ms,
      msJitOn: times.jitOn,
      msJitOff: times.jitOff,
      rows: rows[0]?.n ?? 0,
      matched: 0,
      onlyHourly: 0,
      onlyBaseline: 0,
      maxQuantileRelError: null,
    };
    if (compare) {
      const { rows: c } = await client.query<{
        matched: number;
        only_hourly: number;
        only_baseline: number;
        max_rel_error: number | null;
      }>(compareSql(BASELINE_TABLE));
      const row = c[0];
      if (row) {
        result.matched = row.matched;
        result.onlyHourly = row.only_hourly;
        result.onlyBaseline = row.only_baseline;
        result.maxQuantileRelError = row.max_rel_error;
      }
    }
    await client.query(`DROP TABLE IF EXISTS ${BASELINE_TABLE}`);
    return result;
  });
}

export type RollupLevel = 'day' | 'week' | 'month';
export const ROLLUP_LEVELS: readonly RollupLevel[] = ['day', 'week', 'month'];

export interface RollupMeasurement extends AggregationMeasurement {
  /** Every repetition's time; `ms` is their median. */
  samples: number[];
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/**
 * Each rollup level, finest first, `repeats` times (the machine is shared, so the median is reported). The
 * first pass finds the windows dirty from the hourly run; later passes re-mark them dirty first (untimed,
 * markRangeDirty). `now` lies 40 days past the span, after the end of every week and month it touches, so
 * they are all closed and due (the real clock would leave the current ones open).
 */
export async function measureRollups(
  db: Database,
  span: Span,
  timeZone = 'UTC',
  repeats = 3,
): Promise<Record<RollupLevel, RollupMeasurement>> {
  const calendar = { ...DEFAULT_CALENDAR, timeZone };
  const now = new Date(span.end.getTime() + 40 * 86_400_000);
  const runs: Record<RollupLevel, AggregationMeasurement[]> = { day: [], week: [], month: [] };
  for (let rep = 0; rep < repeats; rep++) {
    for (const level of ROLLUP_LEVELS) {
      if (rep > 0) await markRangeDirty(db, level, span.start, now, calendar);
      const started = performance.now();
      const summary = await runAggregation(
        { db, options: { ...DEFAULT_JOB_OPTIONS, timeZone } },
        { level, trigger: 'manual', now },
      );
      runs[level].push(measured(summary, performance.now() - started));
    }
  }
  const out = {} as Record<RollupLevel, RollupMeasurement>;
  for (const level of ROLLUP_LEVELS) {
    const all = runs[level];
    const first = all[0] as AggregationMeasurement;
    const samples = all.map((m) => m.ms);
    out[level] = {
      ...first,
      ms: median(samples),
      samples,
      failed: all.reduce((n, m) => n + m.failed, 0),
      windows: Math.min(...all.map((m) => m.windows)),
    };
  }
  return out;
}
