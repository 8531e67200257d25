// GET /aggregates/daily-usage: one row per day of the configured zone with requests, errors, tokens and
// cost (reported and inferred apart), the same per model, the totals, and the change against the period
// of the same length just before — the shape people know from LLM-observability tools' daily metrics.
// Read from the daily aggregates only. A day is `complete` once it has ended and its hours and its day are
// aggregated as they stand; the default range ends with the newest complete day, and the change is only
// given between periods whose days are all complete (a day not aggregated yet is no day without traffic).
import { localDate, parseZonedInstant } from '../aggregate/index.ts';
import { BatchError } from '../errors/index.ts';
import { aggregationJobName } from '../jobs/index.ts';
import { COST_INFERRED_FLAG_METRIC, COST_INFERRED_METRIC, COST_METRIC } from '../pricing/index.ts';
import {
  dailyUsageRows,
  lastChangeOf,
  waitingWindows,
  type UsageRow,
  type WaitingWindow,
} from './aggregates-sql.ts';
import { DELETING_JOBS, refuseUnknownNames } from './aggregates.ts';
import { cacheHeaders, notModified, validatorsOf } from './cache.ts';
import { DailyUsageQuerySchema, MAX_USAGE_DAYS } from './request.ts';
import type { DailyUsage, DayUsage, ModelUsage, Usage } from './answers.ts';
import type { ReadAnswer, ReadContext, ReadRequest } from './types.ts';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** How many days back the default range looks for the newest complete day. */
const COMPLETE_LOOKBACK_DAYS = 31;
const addDays = (date: string, days: number): string =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
const daysBetween = (from: string, to: string): number =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);

/** The instant a local date starts in `zone` (a date always parses). */
const dayStart = (date: string, zone: string): number => parseZonedInstant(date, zone) as number;

/**
 * The dates of [from, to) whose daily aggregates are final: the day has ended by `nowMs`, and no hour
 * overlapping it nor its day window waits to be aggregated (never done — the daily job has not run since
 * the day ended —, re-opened by late events, retrying or failed).
 */
export function completeDays(
  from: string,
  to: string,
  zone: string,
  nowMs: number,
  waiting: readonly WaitingWindow[],
): Set<string> {
  const out = new Set<string>();
  for (let date = from; date < to; date = addDays(date, 1)) {
    const start = dayStart(date, zone);
    const end = dayStart(addDays(date, 1), zone);
    if (end > nowMs) continue;
    const busy = waiting.some((w) => {
      const bucket = new Date(w.bucket).getTime();
      return w.level === 'hour' ? bucket < end && bucket + HOUR_MS > start : bucket >= start && bucket < end;
    });
    if (!busy) out.add(date);
  }
  return out;
}

/** Sums per metric and the largest count, of one day and series (or a period, when added up). */
interface Tally {
  maxCount: number;
  sums: Map<string, number>;
}
const emptyTally = (): Tally => ({ maxCount: 0, sums: new Map() });

function addRow(tally: Tally, row: UsageRow): void {
  tally.maxCount = Math.max(tally.maxCount, Number(row.count));
  tally.sums.set(row.metric, (tally.sums.get(row.metric) ?? 0) + Number(row.sum));
}

function merge(into: Tally, from: Tally): void {
  // Requests of a period: the days' requests added up (each day's count is its own most frequent metric).
  into.maxCount += from.maxCount;
  for (const [metric, sum] of from.sums) into.sums.set(metric, (into.sums.get(metric) ?? 0) + sum);
}

function usageOf(tally: Tally): Usage {
  const sum = (metric: string) => tally.sums.get(metric) ?? 0;
  const cost = sum(COST_METRIC);
  const inferred = sum(COST_INFERRED_METRIC);
  const errors = sum('error');
  return {
    requests: tally.maxCount,
    errors,
    error_rate: tally.maxCount === 0 ? null : errors / tally.maxCount,
    tokens_in: sum('tokens_in'),
    tokens_out: sum('tokens_out'),
    cost_usd: cost,
    // The difference of two float sums: round off what binary arithmetic leaves (1e-12 USD).
    cost_reported_usd: Math.round((cost - inferred) * 1e12) / 1e12,
    cost_inferred_usd: inferred,
    inferred_requests: sum(COST_INFERRED_FLAG_METRIC),
  };
}

function relative(now: number | null, before: number | null): number | null {
  if (now === null || before === null || before === 0) return null;
  return (now - before) / before;
}

/**
 * The days asked for; by default the 7 days up to the newest complete day (`newestComplete`; without one,
 * up to yesterday).
 */
export function dailyUsageRange(
  query: { from?: string | undefined; to?: string | undefined },
  zone: string,
  now: Date,
  newestComplete: string | undefined,
): { from: string; to: string } {
  const to = query.to ?? addDays(newestComplete ?? addDays(localDate(now.getTime(), zone), -1), 1);
  const from = query.from ?? addDays(to, -7);
  const days = daysBetween(from, to);
  if (days < 1) {
    const defaulted =
      query.to === undefined ? `; without to it is the day after the newest complete day, ${to}` : '';
    throw new BatchError(
      'REQUEST_INVALID',
      `to: must be after from (${from}); to is the day after the last one${defaulted}`,
      {
        context: { field: 'to' },
      },
    );
  }
  if (days > MAX_USAGE_DAYS) {
    throw new BatchError(
      'REQUEST_INVALID',
      `from/to: ${days} days asked, at most ${MAX_USAGE_DAYS} per request`,
      {
        context: { field: 'from' },
      },
    );
  }
  return { from, to };
}

export function buildDailyUsage(
  rows: readonly UsageRow[],
  range: { from: string; to: string },
  eventType: string,
  zone: string,
  complete: ReadonlySet<string>,
): DailyUsage {
  const days = daysBetween(range.from, range.to);
  const previousFrom = addDays(range.from, -days);
  // date → series ('*' or a model) → tally
  const byDay = new Map<string, Map<string, Tally>>();
  for (const row of rows) {
    const date = localDate(new Date(row.timestamp).getTime(), zone);
    const series = row.dimension === 'all' ? '*' : row.dimension_value;
    const day = byDay.get(date) ?? new Map<string, Tally>();
    byDay.set(date, day);
    const tally = day.get(series) ?? emptyTally();
    day.set(series, tally);
    addRow(tally, row);
  }
  const total = new Map<string, Tally>();
  const previous = emptyTally();
  const out: DayUsage[] = [];
  let periodComplete = true;
  let previousComplete = true;
  for (let i = -days; i < days; i++) {
    const date = addDays(range.from, i);
    const day = byDay.get(date) ?? new Map<string, Tally>();
    if (i < 0) previousComplete &&= complete.has(date);
    else periodComplete &&= complete.has(date);
    if (i < 0) {
      merge(previous, day.get('*') ?? emptyTally());
      continue;
    }
    const models: ModelUsage[] = [];
    for (const [series, tally] of [...day].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const sum = total.get(series) ?? emptyTally();
      total.set(series, sum);
      merge(sum, tally);
      if (series !== '*') models.push({ model: series, ...usageOf(tally) });
    }
    out.push({ date, complete: complete.has(date), ...usageOf(day.get('*') ?? emptyTally()), models });
  }
  const totals = usageOf(total.get('*') ?? emptyTally());
  const before = usageOf(previous);
  // A day not aggregated yet would compare a part of a period against a whole one: no change then.
  const comparable = periodComplete && previousComplete;
  const change = Object.fromEntries(
    (Object.keys(totals) as Array<keyof Usage>).map((k) => [
      k,
      comparable ? relative(totals[k], before[k]) : null,
    ]),
  ) as DailyUsage['change'];
  return {
    time_zone: zone,
    event_type: eventType,
    from: range.from,
    to: range.to,
    complete: periodComplete,
    days: out,
    totals: {
      ...totals,
      models: [...total]
        .filter(([series]) => series !== '*')
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([model, tally]) => ({ model, ...usageOf(tally) })),
    },
    previous: { from: previousFrom, to: range.from, complete: previousComplete, ...before },
    change,
  };
}

export async function answerDailyUsage(ctx: ReadContext, req: ReadRequest): Promise<ReadAnswer> {
  const query = DailyUsageQuerySchema.parse(req.query);
  // A misspelt type would read as days without traffic: refuse it as GET /aggregates?level=day does, before
  // any 304. A type that exists but has nothing in the range is days of zeros, and so is the default type
  // when none was asked for (a fresh install has none yet: no days, not a 400 for a name nobody typed).
  if (req.query.event_type !== undefined) {
    await refuseUnknownNames(ctx, {
      level: 'day',
      eventType: query.event_type,
      metrics: undefined,
      dimension: 'all',
      value: undefined,
      fromMs: undefined,
      toMs: undefined,
    });
  }
  const zone = ctx.timeZone;
  const now = ctx.now?.() ?? new Date();
  let newestComplete: string | undefined;
  if (query.to === undefined) {
    const today = localDate(now.getTime(), zone);
    const lookFrom = addDays(today, -COMPLETE_LOOKBACK_DAYS);
    const waiting = await waitingWindows(ctx.db, dayStart(lookFrom, zone), dayStart(today, zone));
    newestComplete = [...completeDays(lookFrom, today, zone, now.getTime(), waiting)].sort().at(-1);
  }
  const range = dailyUsageRange(query, zone, now, newestComplete);
  const previousFrom = addDays(range.from, -daysBetween(range.from, range.to));
  const fromMs = dayStart(previousFrom, zone);
  const toMs = dayStart(range.to, zone);
  const waiting = await waitingWindows(ctx.db, fromMs, toMs);
  const complete = completeDays(previousFrom, range.to, zone, now.getTime(), waiting);
  const change = await lastChangeOf(ctx.db, [aggregationJobName('day')], fromMs, toMs, DELETING_JOBS);
  // Completeness moves without a run of the daily job (a day ends, late events re-open an hour): it is
  // part of the representation the ETag stands for.
  const validators = validatorsOf(
    { route: 'daily-usage', range, event_type: query.event_type, complete: [...complete].sort() },
    change,
  );
  const headers = cacheHeaders(validators);
  if (notModified(req.headers, validators)) return { status: 304, headers, body: undefined };
  const rows = await dailyUsageRows(ctx.db, query.event_type, fromMs, toMs);
  return { status: 200, headers, body: buildDailyUsage(rows, range, query.event_type, zone, complete) };
}
