// `--explain`: where the time of measurements 2 and 3 goes. EXPLAIN (ANALYZE, BUFFERS) of the plain GROUP BY,
// of the hourly aggregation's statement for the busiest hour and of a day rollup's statement, captured from
// shared/aggregate and run inside a transaction that is rolled back so nothing is written.
import type { QueryResult, QueryResultRow } from 'pg';
import {
  deleteWindowState,
  tuneWindowTransaction,
  WINDOW_WORK_MEM,
  windowStateParams,
  windowStateSql,
} from '../shared/aggregate/state-sql.ts';
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
  const hour = await explainWindow(db, 'hour', bucket);
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

/** The plan of one window's insert statement, inside a transaction that is rolled back. */
async function explainWindow(db: Database, level: 'hour' | 'day', bucket: Date): Promise<string> {
  return db.withClient(async (client) => {
    await client.query('BEGIN');
    try {
      await tuneWindowTransaction(client, false);
      await deleteWindowState(client, level, bucket);
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
