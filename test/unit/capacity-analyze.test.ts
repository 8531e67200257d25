// shared/capacity's analysis of known series: a trend with daily and weekly seasonality crosses its threshold
// where the signal does; flat, short, gappy and stopped series; outliers; recommendations with arithmetic.
import test from 'ava';
import { analyzeResource, type AnalyzeOptions } from '../../shared/capacity/analyze.ts';
import { crossingPhrase } from '../../shared/capacity/recommend.ts';
import { resourceSpecs, type ResourceSpec } from '../../shared/capacity/resources.ts';
import { loadConfig } from '../../shared/config/index.ts';
import { HOUR, hostRows, signal } from '../fixtures/capacity-series.ts';

const END = new Date('2026-12-01T00:00:00Z');
const DAY_MS = 24 * HOUR;

function spec(resource: string, env: Record<string, string> = {}): ResourceSpec {
  const config = loadConfig({ env: { BATCH_PROCESSING_CAPACITY_ANALYSES: resource, ...env } });
  return resourceSpecs(config.capacityAnalysis)[0]!;
}

const options = (extra: Partial<AnalyzeOptions> = {}): AnalyzeOptions => ({
  end: END,
  horizonHours: 30 * 24,
  forecasting: true,
  alertHorizonDays: 14,
  scaleDown: { percent: 30, weeks: 4 },
  timeZone: 'UTC',
  ...extra,
});

test('a trend with daily and weekly seasonality: the crossing within ±2 days of the true one, inside the 95 % band', (t) => {
  const growing = { level: 60, growth: 5, daily: 10, weekend: 6, noise: 2 };
  const rows = hostRows(END, 6 * 168, [{ host: 'gpu-node-1', signal: growing }]);
  const [fleet, host] = analyzeResource(spec('gpu'), rows, options());
  const truth = signal(growing, END);
  let trueCrossing = 0;
  for (let t = END.getTime(); ; t += HOUR) {
    if (truth(t) >= 80) {
      trueCrossing = t;
      break;
    }
  }
  for (const a of [fleet!, host!]) {
    t.is(a.status, 'ok');
    t.deepEqual(a.forecast?.periods, [24, 168]);
    t.is(a.forecast?.model, 'mstl');
    t.is(a.forecast?.calibration, 'conformal');
    t.is(a.forecast?.points?.length, 720);
    const crossing = Date.parse(a.crossing_at!);
    t.true(
      Math.abs(crossing - trueCrossing) <= 2 * DAY_MS,
      `${a.series}: ${a.crossing_at} vs ${new Date(trueCrossing).toISOString()}`,
    );
    const earliest = Date.parse(a.threshold_crossing!.earliest_at!);
    const latest = Date.parse(a.threshold_crossing!.latest_at!);
    t.true(
      earliest <= trueCrossing && trueCrossing <= latest,
      `${a.series}: band ${a.threshold_crossing?.earliest_at} … ${a.threshold_crossing?.latest_at}`,
    );
    t.true(
      a.days_to_threshold!.earliest! <= a.days_to_threshold!.point! &&
        a.days_to_threshold!.point! <= a.days_to_threshold!.latest!,
    );
    t.true(a.alert, 'crossing within the 14-day alert horizon');
    t.true(Math.abs(a.growth_per_week! - 5) < 1, `growth ${a.growth_per_week}`);
    t.true(a.seasonality.daily > 0.5 && (a.seasonality.weekly ?? 0) > 0.2, JSON.stringify(a.seasonality));
    t.is(a.utilization.peak_hour, 15);
    const b = a.forecast!.backtest!;
    t.is(b.windows, 3);
    t.true(b.mase < b.baseline_mase, 'MSTL beats seasonal naive on a trending series');
  }
  const rec = fleet!.recommendations[0]!;
  t.is(rec.action, 'scale_up');
  // "gpu: peak forecast 92 % on 2026-12-29 with 1 host, crossing 80 % on 2026-12-14 (95 %: 2026-12-07 –
  // 2026-12-22); 2 hosts keep it at 46 %, under 80 %"
  const day = (iso: string): string => iso.slice(0, 10);
  const c = fleet!.threshold_crossing!;
  t.is(
    rec.text
      .replace(/peak forecast \d+ % on \d{4}-\d{2}-\d{2}/, 'PEAK')
      .replace(/\d+ hosts keep it at \d+ %/, 'KEPT'),
    `gpu: PEAK with 1 host, crossing 80 % on ${day(c.point_at!)} (95 %: ${day(c.earliest_at!)} – ${day(c.latest_at!)}); KEPT, under 80 %`,
  );
  const [, peak, hosts, kept] = /forecast (\d+) %.*; (\d+) hosts keep it at (\d+) %/
    .exec(rec.text)!
    .map(Number);
  t.is(hosts, Math.ceil(fleet!.forecast!.peak.value / 80), 'hosts = ⌈1 host × peak / 80 %⌉');
  t.true(Math.abs(kept! - peak! / hosts!) <= 1, 'kept = peak × 1 host / hosts');
  t.is(rec.current, 1);
  t.is(rec.recommended, hosts!);
});

test('a disk filling at 6 %/week under a 9-hour wobble: forecast, growth and verdict agree (the forecast was flat, "hold")', (t) => {
  // MSTL's AutoETS trend tracked the wobble and forecast the last level for 30 days
  const filling = { level: 60, growth: 6, daily: 3, noise: 0.2, wobble: { amplitude: 1, hours: 9 } };
  const truth = signal(filling, END);
  let trueCrossing = 0;
  for (let t = END.getTime(); ; t += HOUR) {
    if (truth(t) >= 80) {
      trueCrossing = t;
      break;
    }
  }
  for (const hours of [168, 3 * 168]) {
    const rows = hostRows(END, hours, [{ host: 'gpu-node-1', signal: filling }]);
    const [fleet] = analyzeResource(spec('disk'), rows, options());
    const a = fleet!;
    const points = a.forecast!.points!;
    const dayMean = (d: number): number =>
      points.slice(d * 24, (d + 1) * 24).reduce((sum, p) => sum + p.value, 0) / 24;
    const forecastGrowth = ((dayMean(29) - dayMean(0)) / 29) * 7;
    t.true(Math.abs(a.growth_per_week! - 6) < 0.5, `${hours} h: growth ${a.growth_per_week}`);
    t.true(
      Math.abs(forecastGrowth - a.growth_per_week!) < 0.5,
      `${hours} h: the forecast grows ${forecastGrowth.toFixed(2)} a week, the history ${a.growth_per_week}`,
    );
    const crossing = Date.parse(a.crossing_at!);
    t.true(
      Math.abs(crossing - trueCrossing) <= 2 * DAY_MS,
      `${hours} h: ${a.crossing_at} vs ${new Date(trueCrossing).toISOString()}`,
    );
    const c = a.threshold_crossing!;
    t.true(Date.parse(c.earliest_at!) <= crossing && crossing <= Date.parse(c.latest_at!));
    t.is(a.recommendations[0]!.action, 'grow_storage', a.recommendations[0]!.text);
  }
});

test('growth that began three weeks ago: growth per week and the forecast both read the growth of now', (t) => {
  // flat at 50 for three weeks, then +6 a week; growth_per_week read all six weeks (3 a week)
  const since = END.getTime() - 3 * 168 * HOUR;
  const rows = hostRows(END, 6 * 168, [
    { host: 'h1', signal: { level: 68, growth: 6, daily: 3, noise: 0.3 } },
  ]);
  for (const r of rows) {
    const t = r.hour.getTime();
    if (t < since) r.value -= (6 * (t - since)) / (168 * HOUR);
  }
  const [fleet] = analyzeResource(spec('disk'), rows, options());
  const a = fleet!;
  t.true(Math.abs(a.growth_per_week! - 6) < 0.5, `growth ${a.growth_per_week}`);
  const points = a.forecast!.points!;
  const week = (w: number): number =>
    points.slice(w * 168, (w + 1) * 168).reduce((sum, p) => sum + p.value, 0) / 168;
  t.true(
    Math.abs(week(3) - week(0) - 3 * a.growth_per_week!) < 1.5,
    `forecast weeks ${week(0)} → ${week(3)}`,
  );
});

test('a disk that fills within the horizon: the forecast stops at 100 %, the day it is full is named, sizing follows the trend (it read "110 %")', (t) => {
  // gpu-node-2 of the demo: 74 % and +8.4 a week, forecast to 110 % in 30 days
  const rows = hostRows(END, 168, [{ host: 'h1', signal: { level: 74.5, growth: 8.4, noise: 0.1 } }]);
  const [fleet] = analyzeResource(spec('disk'), rows, options());
  const a = fleet!;
  const points = a.forecast!.points!;
  t.true(
    points.every((p) => p.value <= 100 && p.hi95 <= 100 && p.hi80 <= 100),
    'no forecast value above 100 %',
  );
  const full = points.find((p) => p.value >= 100)!;
  t.deepEqual(a.forecast!.peak, { value: 100, timestamp: full.timestamp });
  t.is(a.limit_crossing!.point_at, full.timestamp, 'the day it is full is the day it reaches the limit');
  const demand = a.forecast!.demand!;
  t.true(demand.value > 105, `the trend asks ${demand.value}`);
  const rec = a.recommendations[0]!;
  t.is(rec.action, 'grow_storage');
  const match =
    /^disk: peak forecast 100 % from (\S+) \(the trend asks (\d+) % by (\S+)\), crossing 80 % on .*; growing the volumes by \d+ % \((\d\.\d\d)×\) keeps it at (\d+) %, under 80 %$/.exec(
      rec.text,
    );
  t.truthy(match, rec.text);
  const [, fullDay, asks, askedDay, factor, kept] = match!;
  t.is(fullDay, full.timestamp.slice(0, 10));
  t.is(Number(asks), Math.round(demand.value));
  t.is(askedDay, demand.timestamp.slice(0, 10));
  t.true(Math.abs(Number(kept) - demand.value / Number(factor)) <= 1, 'kept = what the trend asks ÷ factor');
});

test('a crossing whose 95 % range lies within one day gives its hours, around the point (it read "2026-12-11 – 2026-12-11")', (t) => {
  const rows = hostRows(END, 168, [{ host: 'h1', signal: { level: 74.5, growth: 8.4, noise: 0.1 } }]);
  const a = analyzeResource(spec('disk'), rows, options())[0]!;
  const c = a.threshold_crossing!;
  const [earliest, point, latest] = [c.earliest_at!, c.point_at!, c.latest_at!];
  t.true(Date.parse(earliest) <= Date.parse(point) && Date.parse(point) <= Date.parse(latest));
  t.is(earliest.slice(0, 10), latest.slice(0, 10), 'a clean ramp: the range is hours wide');
  t.true(Date.parse(latest) > Date.parse(earliest), 'but not zero');
  t.true(
    a.recommendations[0]!.text.includes(
      `crossing 80 % on ${point.slice(0, 10)} (95 %: between ${earliest.slice(11, 16)} and ${latest.slice(11, 16)} that day)`,
    ),
    a.recommendations[0]!.text,
  );
});

test('crossing phrase: days in the configured zone, hours when the range is within one of them', (t) => {
  const at = { point_at: '2026-12-11T16:00:00Z', earliest_at: '2026-12-11T09:00:00Z' };
  t.is(
    crossingPhrase({ ...at, latest_at: '2026-12-11T22:00:00Z' }, 'Europe/Berlin'),
    'on 2026-12-11 (95 %: between 10:00 and 23:00 that day)',
  );
  t.is(
    crossingPhrase({ ...at, latest_at: '2026-12-11T23:00:00Z' }, 'Europe/Berlin'),
    'on 2026-12-11 (95 %: 2026-12-11 – 2026-12-12)',
  );
  t.is(
    crossingPhrase({ ...at, latest_at: null }, 'UTC'),
    'on 2026-12-11 (95 %: 2026-12-11 – past the horizon)',
  );
});

test('a flat series: no crossing, no alert, hold', (t) => {
  const rows = hostRows(END, 3 * 168, [{ host: 'h1', signal: { level: 40, noise: 1 } }]);
  const [fleet] = analyzeResource(spec('cpu'), rows, options());
  t.is(fleet!.status, 'ok');
  t.deepEqual(fleet!.days_to_threshold, { point: null, earliest: null, latest: null });
  t.is(fleet!.crossing_at, null);
  t.false(fleet!.alert);
  t.true(Math.abs(fleet!.growth_per_week!) < 0.5);
  t.true(fleet!.forecast!.points!.every((p) => p.hi95 < 80));
  t.is(fleet!.recommendations[0]!.action, 'hold');
  t.regex(
    fleet!.recommendations[0]!.text,
    /^cpu: peak forecast 4\d % on .* with 1 host, under 80 %: no change needed$/,
  );
});

test('a series of exactly constant values still forecasts (zero-width intervals, no crossing)', (t) => {
  const rows = hostRows(END, 100, [{ host: 'h1', signal: { level: 50 } }]);
  const [fleet] = analyzeResource(spec('memory'), rows, options());
  t.is(fleet!.status, 'ok');
  t.true(fleet!.forecast!.points!.every((p) => Math.abs(p.value - 50) < 1e-6 && p.hi95 - p.lo95 < 1e-3));
  t.is(fleet!.crossing_at, null);
});

test('too short a history is refused with the reason, and nothing is forecast', (t) => {
  const rows = hostRows(END, 60, [{ host: 'h1', signal: { level: 50, daily: 5, noise: 1 } }]);
  const [fleet] = analyzeResource(spec('cpu'), rows, options());
  t.is(fleet!.status, 'insufficient_history');
  t.is(fleet!.reason, 'insufficient history: 60 hours, need 72');
  t.is(fleet!.forecast, null);
  t.is(fleet!.days_to_threshold, null);
  t.deepEqual(fleet!.recommendations, []);
  t.true(fleet!.utilization.mean > 40, 'the statistics are still given');
});

test('less than two weeks uses the daily period only', (t) => {
  const rows = hostRows(END, 7 * 24, [{ host: 'h1', signal: { level: 50, daily: 10, noise: 1 } }]);
  const [fleet] = analyzeResource(spec('cpu'), rows, options());
  t.deepEqual(fleet!.forecast!.periods, [24]);
  t.is(fleet!.seasonality.weekly, null);
  t.is(fleet!.forecast!.backtest!.horizon_hours, 24, 'one-day windows when two-day ones do not fit');
});

test('missing hours are filled and counted; the statistics use observed hours only', (t) => {
  const missing = new Set<number>([...Array.from({ length: 30 }, (_, i) => 200 + i), 17, 99, 401]);
  const rows = hostRows(END, 3 * 168, [{ host: 'h1', signal: { level: 50, daily: 10, noise: 1 }, missing }]);
  const [fleet] = analyzeResource(spec('cpu'), rows, options());
  t.is(fleet!.history.hours, 3 * 168);
  t.is(fleet!.history.filled_hours, missing.size);
  t.is(fleet!.history.observed_hours, 3 * 168 - missing.size);
  t.is(fleet!.status, 'ok');
  t.truthy(fleet!.forecast);
  const observed = rows.filter((r) => r.dimension === 'all').map((r) => r.value);
  t.true(Math.abs(fleet!.utilization.mean - observed.reduce((a, b) => a + b) / observed.length) < 1e-3);
});

test('a host that stops reporting is stale, not forecast, and the fleet counts the hosts still reporting', (t) => {
  const rows = hostRows(END, 3 * 168, [
    { host: 'gpu-node-1', signal: { level: 50, daily: 10, noise: 1 } },
    { host: 'gpu-node-2', signal: { level: 50, daily: 10, noise: 1 }, stopsHoursBeforeEnd: 50 },
  ]);
  const analyses = analyzeResource(spec('gpu'), rows, options());
  t.deepEqual(
    analyses.map((a) => [a.series, a.status]),
    [
      ['fleet', 'ok'],
      ['gpu-node-1', 'ok'],
      ['gpu-node-2', 'stale'],
    ],
  );
  const stale = analyses[2]!;
  t.is(
    stale.reason,
    'no data since 2026-11-28T22:00:00.000Z (50 hours before the end of the history); not forecast',
  );
  t.is(stale.forecast, null);
  t.is(stale.recommendations[0]!.action, 'investigate');
  t.is(analyses[0]!.hosts, 1);
  t.regex(analyses[0]!.recommendations[0]!.text, /with 1 host\b/);
});

test('an outlier is found, reported with its expected value, and kept out of the model', (t) => {
  const rows = hostRows(END, 2 * 168, [{ host: 'h1', signal: { level: 40, daily: 8, noise: 1 } }]);
  const spikeAt = new Date(END.getTime() - 100 * HOUR);
  for (const r of rows) if (r.hour.getTime() === spikeAt.getTime()) r.value = 99;
  const [fleet] = analyzeResource(spec('cpu'), rows, options());
  t.is(fleet!.history.outlier_count, 1);
  t.is(fleet!.history.outliers[0]!.timestamp, spikeAt.toISOString());
  t.is(fleet!.history.outliers[0]!.value, 99);
  t.true(fleet!.history.outliers[0]!.expected < 60);
  t.is(fleet!.utilization.max, 99, 'a spike is real load in the statistics');
  t.true(fleet!.forecast!.peak.value < 70, 'and does not bend the forecast');
});

test('forecasting off: statistics and recommendations from the last week, no forecast', (t) => {
  const rows = hostRows(END, 2 * 168, [
    { host: 'a', signal: { level: 70, daily: 20, noise: 1 } },
    { host: 'b', signal: { level: 70, daily: 20, noise: 1 } },
  ]);
  const [fleet] = analyzeResource(spec('cpu'), rows, options({ forecasting: false }));
  t.is(fleet!.forecast, null);
  t.is(fleet!.days_to_threshold, null);
  t.false(fleet!.alert);
  const rec = fleet!.recommendations[0]!;
  t.is(rec.action, 'scale_up');
  t.regex(
    rec.text,
    /^cpu: peak in the last 7 days 9\d % on .* with 2 hosts; 3 hosts keep it at 6\d %, under 80 %$/,
  );
});

test('thresholds, limits and the alert horizon come from the configuration', (t) => {
  const rows = hostRows(END, 3 * 168, [{ host: 'h1', signal: { level: 55, growth: 3, daily: 5, noise: 1 } }]);
  const strict = analyzeResource(
    spec('cpu', { BATCH_PROCESSING_CAPACITY_THRESHOLDS: 'cpu=60' }),
    rows,
    options(),
  )[0]!;
  t.is(strict.threshold, 60);
  t.is(strict.threshold_percent, 60);
  t.truthy(strict.crossing_at);
  const loose = analyzeResource(
    spec('cpu', { BATCH_PROCESSING_CAPACITY_THRESHOLDS: 'cpu=95' }),
    rows,
    options(),
  )[0]!;
  t.true(loose.crossing_at === null || Date.parse(loose.crossing_at) > Date.parse(strict.crossing_at!));
  const short = analyzeResource(
    spec('cpu', { BATCH_PROCESSING_CAPACITY_THRESHOLDS: 'cpu=60' }),
    rows,
    options({ alertHorizonDays: 0 }),
  )[0]!;
  t.false(short.alert, 'a crossing after the alert horizon raises no alert');
  const doubled = analyzeResource(
    spec('cpu', { BATCH_PROCESSING_CAPACITY_LIMITS: 'cpu=200' }),
    rows,
    options(),
  )[0]!;
  t.is(doubled.limit, 200);
  t.is(doubled.threshold, 160);
  t.true(Math.abs(doubled.utilization.ratio! - strict.utilization.ratio! / 2) < 1e-3);
});

test('requests: the fleet limit is the per-replica limit × replicas; without a limit, a configure note', (t) => {
  const rows = hostRows(END, 2 * 168, [
    { host: 'api-1', signal: { level: 700, daily: 300, noise: 20 } },
    { host: 'api-2', signal: { level: 700, daily: 300, noise: 20 } },
  ]).map((r) => (r.dimension === 'all' ? { ...r, value: r.value * 2 } : r)); // a count adds up over replicas
  const unset = analyzeResource(spec('requests'), rows, options())[0]!;
  t.is(unset.limit, null);
  t.is(unset.recommendations[0]!.action, 'configure');
  t.regex(
    unset.recommendations[0]!.text,
    /set BATCH_PROCESSING_CAPACITY_LIMITS=requests=<requests\/h one replica handles>/,
  );
  const limited = analyzeResource(
    spec('requests', { BATCH_PROCESSING_CAPACITY_LIMITS: 'requests=1000' }),
    rows,
    options(),
  )[0]!;
  t.is(limited.limit, 2000);
  t.is(limited.threshold, 1600);
  const rec = limited.recommendations[0]!;
  t.is(rec.action, 'scale_up');
  t.regex(
    rec.text,
    /^requests: peak forecast 2,\d{3} requests\/h on .* with 2 replicas of 1,000 requests\/h \(\d+ % of 2,000 requests\/h\); 3 replicas keep it at \d+ %, under 80 %$/,
  );
});

test('scale-down after weeks under the floor, when fewer hosts keep the peak under the threshold', (t) => {
  const quiet = { level: 15, daily: 5, noise: 1 };
  const rows = hostRows(
    END,
    5 * 168,
    ['a', 'b', 'c', 'd'].map((host) => ({ host, signal: quiet })),
  );
  const [fleet] = analyzeResource(spec('cpu'), rows, options());
  const rec = fleet!.recommendations[0]!;
  t.is(rec.action, 'scale_down');
  t.regex(
    rec.text,
    /^cpu: weekly p95 stayed under 30 % for 4 weeks \(\d+ %, \d+ %, \d+ %, \d+ %\); peak forecast \d+ % on .* with 4 hosts; 2 hosts keep it at \d+ %, under 80 %$/,
  );
  t.is(rec.current, 4);
  t.is(rec.recommended, 2, '4 hosts × 21 % = 84 %: two hosts keep it at 42 %');
  const [strict] = analyzeResource(spec('cpu'), rows, options({ scaleDown: { percent: 10, weeks: 4 } }));
  t.is(strict!.recommendations[0]!.action, 'hold', 'p95 above a 10 % floor: no scale-down');
});

test('disk grows the volume in 5 % steps; latency is reviewed against its objective without a count', (t) => {
  const disk = hostRows(END, 2 * 168, [{ host: 'h1', signal: { level: 84, noise: 0.5 } }]);
  const rec = analyzeResource(spec('disk'), disk, options())[0]!.recommendations[0]!;
  t.is(rec.action, 'grow_storage');
  t.regex(
    rec.text,
    /^disk: peak forecast 8\d % on .*; growing the volumes by (5|10|15) % \(1\.\d\d×\) keeps it at \d+ %, under 80 %$/,
  );
  const latency = hostRows(END, 2 * 168, [{ host: 'api-1', signal: { level: 1900, daily: 100, noise: 20 } }]);
  const slow = analyzeResource(
    spec('latency', { BATCH_PROCESSING_CAPACITY_LIMITS: 'latency=2000' }),
    latency,
    options(),
  )[0]!;
  t.is(slow.recommendations[0]!.action, 'review');
  t.regex(slow.recommendations[0]!.text, /objective \(1,600 ms\)/);
});
