// The report metrics carry the original service's names and labels, and count what a generation did.
import test from 'ava';
import { Registry } from 'prom-client';
import { reportMetrics } from '../../shared/reports/metrics.ts';
import { backoff } from '../../shared/reports/deliver/deliver.ts';
import { figure, ratingDistribution } from '../../shared/reports/builders/summary.ts';
import { sketchKey } from '../../shared/sketch/index.ts';
import { linearFit, median, scaledMad } from '../../shared/reports/builders/stats.ts';
import { formatValue } from '../../shared/reports/render/format.ts';
import { kpiChangeText } from '../../shared/reports/render/layout.ts';

test("metric names and labels are the issue's, from the catalogue", async (t) => {
  const m = reportMetrics(new Registry());
  m.duration.observe({ report_type: 'daily_summary', format: 'pdf' }, 0.4);
  m.generated.inc({ report_type: 'daily_summary', format: 'pdf', result: 'success' });
  m.distributed.inc({ channel: 'email', result: 'failure' });
  const text = await m.registry.metrics();
  t.regex(text, /^report_generation_duration_seconds_count\{report_type="daily_summary",format="pdf"\} 1$/m);
  t.regex(text, /^report_generation_total\{report_type="daily_summary",format="pdf",result="success"\} 1$/m);
  t.regex(text, /^report_distribution_total\{channel="email",result="failure"\} 1$/m);
});

test('retries back off exponentially, capped at a day', (t) => {
  const at = new Date('2026-11-29T00:00:00Z');
  t.is(backoff(at, 60_000, 1).getTime() - at.getTime(), 60_000);
  t.is(backoff(at, 60_000, 3).getTime() - at.getTime(), 240_000);
  t.is(backoff(at, 3_600_000, 10).getTime() - at.getTime(), 86_400_000);
});

test('figures, fits and robust bands', (t) => {
  t.deepEqual(figure(110, 100), { value: 110, previous: 100, change: 10, change_pct: 10 });
  t.deepEqual(figure(5, 0), { value: 5, previous: 0, change: 5, change_pct: null });
  t.deepEqual(figure(5, null), { value: 5, previous: null, change: null, change_pct: null });
  const fit = linearFit([0, 1, 2, 3].map((x) => ({ x, y: 2 * x + 1 })))!;
  t.is(fit.slope, 2);
  t.is(fit.rSquared, 1);
  t.is(linearFit([{ x: 0, y: 1 }]), null);
  t.is(median([5, 1, 3]), 3);
  t.is(median([4, 1, 3, 2]), 2.5);
  t.is(scaledMad([1, 2, 3, 4, 100]), 1.4826);
});

test('display formats: counts, money, rates, changes, local times', (t) => {
  t.is(formatValue(1234567, 'count'), '1,234,567');
  t.is(formatValue(0.00421, 'usd'), '$0.00421');
  t.is(formatValue(1234.5, 'usd'), '$1,234.50');
  t.is(formatValue(0.0152, 'rate'), '1.52 %');
  t.is(formatValue(-3.21, 'change_pct'), '-3.2 %');
  t.is(formatValue(4.2, 'change_pct'), '+4.2 %');
  t.is(formatValue(-0.00023, 'rate_change'), '-0.02 pp', "a rate's change is in percentage points");
  t.is(formatValue(0.0125, 'rate_change'), '+1.25 pp');
  const tile = (value: number | null, previous: number | null, compare = true) => ({
    label: 'Rating',
    kind: 'number' as const,
    figure: figure(value, previous),
    compare,
  });
  t.is(kpiChangeText(tile(4.5, 4)), 'previous 4.00 (+12.5 %)');
  t.is(kpiChangeText(tile(4.5, null)), 'no data in the previous period');
  t.is(kpiChangeText(tile(null, null)), 'no data in this or the previous period');
  t.is(kpiChangeText(tile(4.5, 4, false)), '');
  t.is(formatValue(null, 'ms'), '—');
  t.is(formatValue('2026-11-28T23:00:00.000Z', 'time', 'Europe/Berlin'), '2026-11-29 00:00');
});

test('the rating distribution shows the whole 1–5 scale, with any rating outside it', (t) => {
  const bins = (ratings: Record<number, number>) =>
    Object.entries(ratings).map(([rating, count]) => ({ ...sketchKey(Number(rating)), count }));
  t.deepEqual(ratingDistribution(bins({ 4: 3, 5: 1 })), [
    { rating: 1, count: 0, share: 0 },
    { rating: 2, count: 0, share: 0 },
    { rating: 3, count: 0, share: 0 },
    { rating: 4, count: 3, share: 0.75 },
    { rating: 5, count: 1, share: 0.25 },
  ]);
  t.deepEqual(
    ratingDistribution(bins({ 2: 1, 7: 1 })).map((r) => [r.rating, r.count]),
    [
      [1, 0],
      [2, 1],
      [3, 0],
      [4, 0],
      [5, 0],
      [7, 1],
    ],
    'a 7 is kept, and no empty 6 is invented',
  );
  t.deepEqual(ratingDistribution([]), [], 'no ratings, no rows');
});
