// The capacity tables (migration 000008): a run's analyses and forecast points written in one transaction,
// and the typed reads the API, the status function's gauges and the capacity_analysis report use.
import type { Queryable } from '../db/index.ts';
import { CapacityAnalysis, type CapacityAnswer, type ForecastPoint } from './types.ts';

export interface StoredRun {
  runId: number;
  generatedAt: Date;
  dataEnd: Date;
  forecasting: boolean;
  analyses: readonly CapacityAnalysis[];
}

/** Inserts the run's analyses (documents without points) and their forecast points, set-based. */
export async function insertCapacityRun(db: Queryable, run: StoredRun): Promise<void> {
  const a = run.analyses;
  await db.query(
    `INSERT INTO capacity_analyses (run_id, resource, series, generated_at, data_end, forecasting, status, unit,
                                    threshold, "limit", utilization_ratio, days_to_threshold, crossing_at, alert,
                                    model, document)
     SELECT $1, u.resource, u.series, $2, $3, $4, u.status, u.unit, u.threshold, u.lim, u.ratio, u.days,
            u.crossing, u.alert, u.model, u.document::jsonb
       FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::float8[], $10::float8[], $11::float8[],
                   $12::float8[], $13::timestamptz[], $14::boolean[], $15::text[], $16::text[])
            AS u(resource, series, status, unit, threshold, lim, ratio, days, crossing, alert, model, document)`,
    [
      run.runId,
      run.generatedAt,
      run.dataEnd,
      run.forecasting,
      a.map((x) => x.resource),
      a.map((x) => x.series),
      a.map((x) => x.status),
      a.map((x) => x.unit),
      a.map((x) => x.threshold),
      a.map((x) => x.limit),
      a.map((x) => x.utilization.ratio),
      a.map((x) => x.days_to_threshold?.point ?? null),
      a.map((x) => x.crossing_at),
      a.map((x) => x.alert),
      a.map((x) => x.forecast?.model ?? null),
      a.map((x) => JSON.stringify(withoutPoints(x))),
    ],
  );
  const points = a.flatMap((x) => (x.forecast?.points ?? []).map((p) => ({ x, p })));
  if (points.length === 0) return;
  await db.query(
    `INSERT INTO capacity_forecast_points (run_id, resource, series, ts, value, lo80, hi80, lo95, hi95)
     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::float8[], $6::float8[], $7::float8[],
                              $8::float8[], $9::float8[])`,
    [
      run.runId,
      points.map(({ x }) => x.resource),
      points.map(({ x }) => x.series),
      points.map(({ p }) => p.timestamp),
      points.map(({ p }) => p.value),
      points.map(({ p }) => p.lo80),
      points.map(({ p }) => p.hi80),
      points.map(({ p }) => p.lo95),
      points.map(({ p }) => p.hi95),
    ],
  );
}

function withoutPoints(a: CapacityAnalysis): CapacityAnalysis {
  if (!a.forecast) return a;
  const { points: _points, ...forecast } = a.forecast;
  return { ...a, forecast };
}

/** Deletes the forecast points of runs generated before `before`, except the newest run's. */
export async function pruneForecastPoints(db: Queryable, before: Date): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM capacity_forecast_points
      WHERE run_id IN (SELECT run_id FROM capacity_analyses WHERE generated_at < $1)
        AND run_id < (SELECT max(run_id) FROM capacity_analyses)`,
    [before],
  );
  return rowCount ?? 0;
}

export interface CapacityRunInfo {
  runId: number;
  generatedAt: Date;
  dataEnd: Date;
  forecasting: boolean;
}

type RunRow = { run_id: string; generated_at: Date; data_end: Date; forecasting: boolean };
const RUN_COLUMNS = 'run_id, generated_at, data_end, forecasting';

function runInfoOf(row: RunRow | undefined): CapacityRunInfo | undefined {
  return row
    ? {
        runId: Number(row.run_id),
        generatedAt: row.generated_at,
        dataEnd: row.data_end,
        forecasting: row.forecasting,
      }
    : undefined;
}

/** The newest stored run, or undefined before the first one. */
export async function latestCapacityRun(db: Queryable): Promise<CapacityRunInfo | undefined> {
  const { rows } = await db.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM capacity_analyses ORDER BY run_id DESC LIMIT 1`,
  );
  return runInfoOf(rows[0]);
}

/**
 * The newest run whose analysed history ends in (from, to] — the analysis of that period (the
 * capacity_analysis report of a day reads the run made after that day's aggregation); undefined when none.
 */
export async function capacityRunEndingIn(
  db: Queryable,
  from: Date,
  to: Date,
): Promise<CapacityRunInfo | undefined> {
  const { rows } = await db.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM capacity_analyses
      WHERE data_end > $1 AND data_end <= $2 ORDER BY run_id DESC LIMIT 1`,
    [from, to],
  );
  return runInfoOf(rows[0]);
}

export interface AnalysisFilter {
  resource?: string | undefined;
  series?: string | undefined;
  /** Include the forecast points (default true). */
  points?: boolean | undefined;
}

/** The analyses of run `runId` (fleet first, then series by name), with their points unless points: false. */
export async function readCapacityAnalyses(
  db: Queryable,
  runId: number,
  filter: AnalysisFilter = {},
): Promise<CapacityAnalysis[]> {
  const { rows } = await db.query<{ document: unknown }>(
    `SELECT document FROM capacity_analyses
      WHERE run_id = $1 AND ($2::text IS NULL OR resource = $2) AND ($3::text IS NULL OR series = $3)
      ORDER BY resource, series <> 'fleet', series`,
    [runId, filter.resource ?? null, filter.series ?? null],
  );
  const analyses = rows.map((r) => CapacityAnalysis.parse(r.document));
  if (filter.points === false) return analyses;
  const { rows: points } = await db.query<
    { resource: string; series: string; ts: Date } & Omit<ForecastPoint, 'timestamp'>
  >(
    `SELECT resource, series, ts, value, lo80, hi80, lo95, hi95 FROM capacity_forecast_points
      WHERE run_id = $1 AND ($2::text IS NULL OR resource = $2) AND ($3::text IS NULL OR series = $3)
      ORDER BY resource, series, ts`,
    [runId, filter.resource ?? null, filter.series ?? null],
  );
  const bySeries = new Map<string, ForecastPoint[]>();
  for (const p of points) {
    const key = `${p.resource}\u0000${p.series}`;
    let list = bySeries.get(key);
    if (!list) bySeries.set(key, (list = []));
    list.push({
      timestamp: p.ts.toISOString(),
      value: p.value,
      lo80: p.lo80,
      hi80: p.hi80,
      lo95: p.lo95,
      hi95: p.hi95,
    });
  }
  for (const a of analyses) {
    if (a.forecast) a.forecast.points = bySeries.get(`${a.resource}\u0000${a.series}`) ?? [];
  }
  return analyses;
}

/**
 * The newest capacity analysis as GET /capacity/analysis answers it (the capacity_analysis report reads this),
 * or undefined when analyze-capacity has never run on this database.
 */
export async function latestCapacityAnalysis(
  db: Queryable,
  filter: AnalysisFilter = {},
): Promise<CapacityAnswer | undefined> {
  const run = await latestCapacityRun(db);
  if (!run) return undefined;
  return {
    generated_at: run.generatedAt.toISOString(),
    run_id: run.runId,
    data_end: run.dataEnd.toISOString(),
    forecasting: run.forecasting,
    analyses: await readCapacityAnalyses(db, run.runId, filter),
  };
}

export interface CapacityGaugeRow {
  resource: string;
  series: string;
  daysToThreshold: number | null;
  utilizationRatio: number | null;
  /** A threshold is configured and the series was forecast (so a missing crossing means "not within the horizon"). */
  forecastAgainstThreshold: boolean;
}

/** The newest run's per-series figures behind capacity_forecast_days_to_threshold and capacity_utilization_ratio. */
export async function capacityGaugeRows(db: Queryable): Promise<CapacityGaugeRow[]> {
  const { rows } = await db.query<{
    resource: string;
    series: string;
    days_to_threshold: number | null;
    utilization_ratio: number | null;
    forecast: boolean;
  }>(
    `SELECT resource, series, days_to_threshold, utilization_ratio,
            (threshold IS NOT NULL AND model IS NOT NULL) AS forecast
       FROM capacity_analyses
      WHERE run_id = (SELECT max(run_id) FROM capacity_analyses)
      ORDER BY resource, series`,
  );
  return rows.map((r) => ({
    resource: r.resource,
    series: r.series,
    daysToThreshold: r.days_to_threshold,
    utilizationRatio: r.utilization_ratio,
    forecastAgainstThreshold: r.forecast,
  }));
}
