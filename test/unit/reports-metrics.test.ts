// The report metrics carry the original service's names and labels, and count what a generation did.
import test from 'ava';
import { Registry } from 'prom-client';
import { reportMetrics } from '../../shared/reports/metrics.ts';
import { backoff } from '../../shared/reports/deliver/deliver.ts';
import { figure } from '../../shared/reports/builders/summary.ts';
import { linearFit, median, scaledMad } from '../../shared/reports/builders/stats.ts';
import { formatValue } from '../../shared/reports/render/format.ts';

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
  t.is(formatValue(0.00421, 'usd'), '$0.0042');
  t.is(formatValue(1234.5, 'usd'), '$1,234.50');
  t.is(formatValue(0.0152, 'rate'), '1.52 %');
  t.is(formatValue(-3.21, 'change_pct'), '-3.2 %');
  t.is(formatValue(4.2, 'change_pct'), '+4.2 %');
  t.is(formatValue(null, 'ms'), '—');
  t.is(formatValue('2026-11-28T23:00:00.000Z', 'time', 'Europe/Berlin'), '2026-11-29 00:00');
});
