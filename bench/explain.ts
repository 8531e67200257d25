// `--explain`: where the time of measurements 2 and 3 goes. EXPLAIN (ANALYZE, BUFFERS) of the plain GROUP BY,
// the busiest hour as the job computes it on PostgreSQL (the time of each step: its rows' COPY out and adding
// them up in Node, the series' columns, their write) and the EXPLAIN of the range statement that PGlite runs
// instead, and a day rollup's statement — captured from shared/aggregate and run inside transactions that are
// rolled back so nothing is written.
import { performance } from 'node:perf_hooks';
import type { QueryResult, QueryResultRow } from 'pg';
import {
  deleteWindowsState,
  tuneWindowTransaction,
  WINDOW_WORK_MEM,
  windowStateParams,
  windowStateSql,
} from '../shared/aggregate/state-sql.ts';
import { accumulateRange, seriesColumns } from '../shared/aggregate/range-state.ts';
import { insertSeriesState } from '../shared/aggregate/state-sql.ts';
import type { Database } from '../shared/db/index.ts';
import { baselineSql } from './baseline-sql.ts';
import type { Span } from './dataset.ts';

export interface ExplainOutput {
  baseline: string;
  hour: string;
  hourBucket: string;
  /** A day rollup window, when the day level has been aggregated. */
  day?: string;
  dayBucket?: string;
}

function planText(result: QueryResult<QueryResultRow>): string {
  return result.rows.map((r) => String(Object.values(r)[0])).join('\n');
}

export async function explainHourly(db: Database, span: Span): Promise<ExplainOutput> {
  const baseline = await db.withClient(async (client) => {
    await client.query('BEGIN');
    try {
      await client.query(`SET LOCAL work_mem = '${WINDOW_WORK_MEM}'`);
      return planText(
        await client.query(
          `EXPLAIN (ANALYZE, BUFFERS) ${baselineSql('bench_explain_baseline', span.start, span.end)}`,
        ),
      );
    } finally {
      await client.query('ROLLBACK');
    }
  });
  // The busiest hour, to see the per-window plan at its largest.
  const { rows } = await db.query<{ bucket: Date }>(
    `SELECT date_trunc('hour', ts, 'UTC') AS bucket FROM raw_events GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`,
  );
  const bucket = rows[0]?.bucket ?? span.start;
  const hour =
    (await hourSteps(db, bucket)) +
    '\n\n--- EXPLAIN of the range statement (PGlite; and the reference) ---\n' +
    (await explainWindow(db, 'hour', bucket));
  const out: ExplainOutput = { baseline, hour, hourBucket: bucket.toISOString() };
  const { rows: days } = await db.query<{ bucket: Date }>(
    `SELECT bucket FROM aggregation_windows WHERE level = 'day' ORDER BY bucket LIMIT 1 OFFSET 1`,
  );
  const day = days[0]?.bucket;
  if (day) {
    out.day = await explainWindow(db, 'day', day);
    out.dayBucket = day.toISOString();
  }
  return out;
}

const ms = (from: number): string => `${(performance.now() - from).toFixed(1)} ms`;

/** The hour as the job computes it on PostgreSQL, step by step, inside a transaction that is rolled back. */
async function hourSteps(db: Database, bucket: Date): Promise<string> {
  return db.withClient(async (client) => {
    await client.query('BEGIN');
    try {
      await tuneWindowTransaction(client, false);
      await deleteWindowsState(client, 'hour', [bucket]);
      let at = performance.now();
      const added = await accumulateRange(client, bucket, new Date(bucket.getTime() + 3_600_000));
      const copied = ms(at);
      at = performance.now();
      const columns = seriesColumns(added.series());
      const prepared = ms(at);
      at = performance.now();
      await insertSeriesState(client, 'hour', bucket, columns, false);
      return (
        `${added.rows} raw rows: COPY out and added up in Node ${copied}; ${columns.counts.length} series ` +
        `put in columns (quantiles included) ${prepared}; written in one statement ${ms(at)}` +
        (added.unusual ? ' (rows the accumulator leaves to SQL: the job runs the range statement)' : '')
      );
    } finally {
      await client.query('ROLLBACK');
    }
  });
}

/** The plan of one window's insert statement, inside a transaction that is rolled back. */
async function explainWindow(db: Database, level: 'hour' | 'day', bucket: Date): Promise<string> {
  return db.withClient(async (client) => {
    await client.query('BEGIN');
    try {
      await tuneWindowTransaction(client, false);
      await deleteWindowsState(client, level, [bucket]);
      return planText(
        await client.query(
          `EXPLAIN (ANALYZE, BUFFERS) ${windowStateSql(level)}`,
          windowStateParams(level, bucket, 'UTC'),
        ),
      );
    } finally {
      await client.query('ROLLBACK');
    }
  });
}
