// The spans a period's per-hour rows must cover, and filling those the views have no row for. Regression:
// weekly_summary 2026-W49 had 157 rows for its 168 hours — an hour without events had no row, and the chart
// drew a straight line across it.
import test from 'ava';
import { fillSpans, periodHourSpans } from '../../shared/reports/builders/hour-spans.ts';
import { parsePeriod } from '../../shared/reports/period.ts';

const MONDAY = { weekStart: 'monday' as const };
const iso = (d: Date) => d.toISOString();

test('a week is its 168 hours, a UTC day its 24', (t) => {
  const week = parsePeriod('2026-W49', 'week', { timeZone: 'UTC', ...MONDAY });
  const spans = periodHourSpans(week.start, week.end);
  t.is(spans.length, 168);
  t.is(iso(spans[0]!.start), '2026-11-30T00:00:00.000Z');
  t.is(iso(spans.at(-1)!.end), '2026-12-07T00:00:00.000Z');
  for (const [i, s] of spans.entries()) if (i > 0) t.is(s.start.getTime(), spans[i - 1]!.end.getTime());
});

test('an Asia/Kolkata day is 25 spans: its first and last half hours and the 23 whole UTC hours between', (t) => {
  const day = parsePeriod('2026-11-28', 'day', { timeZone: 'Asia/Kolkata', ...MONDAY });
  const spans = periodHourSpans(day.start, day.end);
  t.is(spans.length, 25);
  t.deepEqual(
    [iso(spans[0]!.start), iso(spans[0]!.end)],
    ['2026-11-27T18:30:00.000Z', '2026-11-27T19:00:00.000Z'],
  );
  t.deepEqual(
    [iso(spans[1]!.start), iso(spans[1]!.end)],
    ['2026-11-27T19:00:00.000Z', '2026-11-27T20:00:00.000Z'],
  );
  t.deepEqual(
    [iso(spans.at(-1)!.start), iso(spans.at(-1)!.end)],
    ['2026-11-28T18:00:00.000Z', '2026-11-28T18:30:00.000Z'],
  );
});

test('summer-time change days are 23 and 25 hours (Europe/Berlin)', (t) => {
  const zone = { timeZone: 'Europe/Berlin', ...MONDAY };
  const spring = parsePeriod('2026-03-29', 'day', zone);
  const autumn = parsePeriod('2026-10-25', 'day', zone);
  t.is(periodHourSpans(spring.start, spring.end).length, 23);
  t.is(periodHourSpans(autumn.start, autumn.end).length, 25);
});

test('no span that is not over by `until`: no zero rows for hours still to come', (t) => {
  const day = parsePeriod('2026-12-07', 'day', { timeZone: 'UTC', ...MONDAY });
  const spans = periodHourSpans(day.start, day.end, new Date('2026-12-07T11:41:00Z'));
  t.is(spans.length, 11, '00:00–11:00; 11:00–12:00 is not over');
  t.is(iso(spans.at(-1)!.end), '2026-12-07T11:00:00.000Z');
  t.is(periodHourSpans(day.start, day.end, new Date('2026-12-09T00:00:00Z')).length, 24);
});

test('filling adds a row for each span without one, in order, and keeps every row it was given', (t) => {
  const spans = periodHourSpans(new Date('2026-12-05T00:00:00Z'), new Date('2026-12-05T04:00:00Z'));
  const row = (hour: number, requests: number) => ({ at: new Date(Date.UTC(2026, 11, 5, hour)), requests });
  const filled = fillSpans(
    [row(1, 5), row(3, 7)],
    spans,
    (r) => r.at,
    (s) => ({ at: s.start, requests: 0 }),
  );
  t.deepEqual(
    filled.map((r) => [r.at.getUTCHours(), r.requests]),
    [
      [0, 0],
      [1, 5],
      [2, 0],
      [3, 7],
    ],
  );
  const outside = fillSpans(
    [row(9, 1)],
    spans,
    (r) => r.at,
    (s) => ({ at: s.start, requests: 0 }),
  );
  t.is(outside.length, 5, 'a row of no span is kept');
});
