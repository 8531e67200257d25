// What daily-usage's numbers are (shared/query/daily-usage.ts): `requests` is the largest count of one metric
// of a day, not a count of events, and the README and the OpenAPI description say so and when it undercounts;
// which days are complete.
import { readFileSync } from 'node:fs';
import test from 'ava';
import type { WaitingWindow } from '../../shared/query/aggregates-sql.ts';
import { completeDays } from '../../shared/query/daily-usage.ts';
import { buildDailyUsage, UsageSchema } from '../../shared/query/index.ts';
import { queryOperations } from '../../shared/query/api.ts';

const row = (metric: string, count: number, sum: number) => ({
  timestamp: new Date('2026-11-28T00:00:00Z'),
  dimension: 'all',
  dimension_value: '*',
  metric,
  count,
  sum,
});

test('requests is the largest count of one metric: failures that report only "error": true are missed', (t) => {
  // 100 successes with latency and no error flag, 5 failures with only "error": true: 105 events.
  const usage = buildDailyUsage(
    [row('latency_ms', 100, 50_000), row('error', 5, 5)],
    { from: '2026-11-28', to: '2026-11-29' },
    'llm_request',
    'UTC',
    new Set(['2026-11-28']),
  );
  t.is(usage.days[0]!.requests, 100);
  t.is(usage.days[0]!.errors, 5);
  t.is(usage.days[0]!.error_rate, 0.05); // 5 of 105 events is 0.0476…
});

test('the README and the OpenAPI description say what requests is and when it undercounts', (t) => {
  const described =
    (UsageSchema.shape.requests.meta() as { description?: string } | undefined)?.description ?? '';
  t.regex(described, /largest count of any one metric/);
  t.regex(described, /not a count of events/);
  t.regex(described, /"error": true/);
  const errorRate =
    (UsageSchema.shape.error_rate.meta() as { description?: string } | undefined)?.description ?? '';
  t.regex(errorRate, /too high/i);
  const operation = queryOperations.find((o) => o.operationId === 'getDailyUsage')!;
  t.regex(operation.description ?? '', /not a count of events/);
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
  t.regex(readme, /`requests` is not a count of events: .* largest `count` of any one metric/);
  t.regex(readme, /`error_rate` \(`errors \/ requests`, `errors` the sum of `error`\) comes out too high/);
});

test('a day is complete once it has ended and no hour of it nor the day waits', (t) => {
  const zone = 'America/Santiago'; // 2026-09-06 starts at 01:00 local, 04:00Z
  const now = Date.parse('2026-09-08T12:00:00Z');
  const waiting: WaitingWindow[] = [{ level: 'hour', bucket: new Date('2026-09-06T03:00:00Z') }];
  // The hour 03:00Z is 2026-09-05 23:00 local: the 5th waits, the 6th (from 04:00Z) does not.
  t.deepEqual(
    [...completeDays('2026-09-04', '2026-09-09', zone, now, waiting)],
    ['2026-09-04', '2026-09-06', '2026-09-07'],
  );
  const day: WaitingWindow[] = [{ level: 'day', bucket: new Date('2026-09-07T03:00:00Z') }];
  t.deepEqual([...completeDays('2026-09-06', '2026-09-09', zone, now, day)], ['2026-09-06']);
});
