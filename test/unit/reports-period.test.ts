// Report periods: the forms the API takes, refusals naming the field, and bounds equal to the aggregation's
// own buckets (agg_bucket_start/agg_bucket_end) in a DST zone and with Sunday weeks.
import test from 'ava';
import { isBatchError } from '../../shared/errors/index.ts';
import {
  lastCompletePeriod,
  parsePeriod,
  periodContaining,
  periodsBetween,
  previousPeriod,
} from '../../shared/reports/period.ts';
import { freshEmbeddedDatabase } from '../helpers/db.ts';

const UTC = { timeZone: 'UTC', weekStart: 'monday' as const };
const BERLIN = { timeZone: 'Europe/Berlin', weekStart: 'monday' as const };

test('each level reads its own form, and a date inside a week or month', (t) => {
  const day = parsePeriod('2026-11-28', 'day', UTC);
  t.is(day.start.toISOString(), '2026-11-28T00:00:00.000Z');
  t.is(day.end.toISOString(), '2026-11-29T00:00:00.000Z');
  t.is(day.label, '2026-11-28');
  const week = parsePeriod('2026-W48', 'week', UTC);
  t.is(week.start.toISOString(), '2026-11-23T00:00:00.000Z');
  t.is(week.end.toISOString(), '2026-11-30T00:00:00.000Z');
  t.deepEqual(parsePeriod('2026-11-28', 'week', UTC).label, '2026-W48');
  const month = parsePeriod('2026-02', 'month', UTC);
  t.is(month.end.toISOString(), '2026-03-01T00:00:00.000Z');
  t.is(parsePeriod('2026-02-14', 'month', UTC).label, '2026-02');
  const hour = parsePeriod('2026-11-28T10', 'hour', UTC);
  t.is(hour.start.toISOString(), '2026-11-28T10:00:00.000Z');
  t.is(parsePeriod('2026-11-28T11:00:00+01:00', 'hour', UTC).label, '2026-11-28T10');
  t.is(parsePeriod('2021-W01', 'week', UTC).start.toISOString(), '2021-01-04T00:00:00.000Z');
  t.is(parsePeriod('2020-W53', 'week', UTC).start.toISOString(), '2020-12-28T00:00:00.000Z');
});

test('a bad period is REQUEST_INVALID naming the field "period" and the form expected', (t) => {
  for (const [text, level] of [
    ['2026-13-01', 'day'],
    ['2026-02-30', 'day'],
    ['2026-W48', 'day'],
    ['2026-W54', 'week'],
    ['2026-11', 'day'],
    ['2026-11-28T10:30:00Z', 'hour'],
    ['yesterday', 'month'],
  ] as const) {
    const err = t.throws(() => parsePeriod(text, level, UTC));
    t.true(isBatchError(err, 'REQUEST_INVALID'), text);
    t.is((err as unknown as { context: { field: string } }).context.field, 'period');
    t.regex(err!.message, /period ".*" .*give/);
  }
});

test('last complete, previous and ranges of periods', (t) => {
  const now = new Date('2026-12-01T00:30:00Z');
  t.is(lastCompletePeriod('day', now, UTC).label, '2026-11-30');
  t.is(lastCompletePeriod('week', now, UTC).label, '2026-W48');
  t.is(lastCompletePeriod('month', now, UTC).label, '2026-11');
  t.is(lastCompletePeriod('hour', now, UTC).label, '2026-11-30T23');
  t.is(previousPeriod(parsePeriod('2026-03', 'month', UTC), UTC).label, '2026-02');
  const days = periodsBetween('day', new Date('2026-11-27T00:00:00Z'), new Date('2026-11-30T00:00:00Z'), UTC);
  t.deepEqual(
    days.map((p) => p.label),
    ['2026-11-27', '2026-11-28', '2026-11-29'],
  );
  t.is(
    periodContaining('week', new Date('2026-11-29T23:00:00Z'), { ...UTC, weekStart: 'sunday' }).startDate,
    '2026-11-29',
  );
});

test('bounds equal agg_bucket_start/agg_bucket_end across DST, skipped and repeated midnights included, and for Sunday weeks', async (t) => {
  const { db, drop } = await freshEmbeddedDatabase();
  t.teardown(drop);
  const instants = [
    '2026-03-29T00:30:00Z',
    '2026-03-29T02:30:00Z',
    '2026-10-25T00:30:00Z',
    '2026-10-25T23:30:00Z',
    '2026-11-29T12:00:00Z',
  ];
  for (const calendar of [BERLIN, { ...BERLIN, weekStart: 'sunday' as const }, UTC]) {
    for (const at of instants) {
      for (const level of ['day', 'week', 'month'] as const) {
        const p = periodContaining(level, new Date(at), calendar);
        const { rows } = await db.query<{ start: Date; end: Date }>(
          `SELECT agg_bucket_start($1, $2::timestamptz, $3, $4) AS start,
                  agg_bucket_end($1, agg_bucket_start($1, $2::timestamptz, $3, $4), $3) AS "end"`,
          [level, at, calendar.timeZone, calendar.weekStart],
        );
        const what = `${level} of ${at} in ${calendar.timeZone}/${calendar.weekStart}`;
        t.is(p.start.toISOString(), rows[0]!.start.toISOString(), what);
        t.is(p.end.toISOString(), rows[0]!.end.toISOString(), what);
      }
    }
  }
  // Midnights the clocks skip (Santiago 2026-09-06) and repeat (Havana 2026-11-01, Azores 2026-10-25).
  const midnights: [string, string[]][] = [
    ['America/Santiago', ['2026-09-06T04:30:00Z', '2026-09-06T12:00:00Z', '2026-09-07T03:30:00Z']],
    ['America/Havana', ['2026-11-01T04:30:00Z', '2026-11-01T12:00:00Z', '2026-10-31T12:00:00Z']],
    ['Atlantic/Azores', ['2026-10-25T00:30:00Z', '2026-10-25T12:00:00Z', '2026-10-01T00:30:00Z']],
  ];
  for (const [timeZone, times] of midnights) {
    for (const weekStart of ['monday', 'sunday'] as const) {
      for (const at of times) {
        for (const level of ['day', 'week', 'month'] as const) {
          const p = periodContaining(level, new Date(at), { timeZone, weekStart });
          const { rows } = await db.query<{ start: Date; end: Date }>(
            `SELECT agg_bucket_start($1, $2::timestamptz, $3, $4) AS start,
                    agg_bucket_end($1, agg_bucket_start($1, $2::timestamptz, $3, $4), $3) AS "end"`,
            [level, at, timeZone, weekStart],
          );
          const what = `${level} of ${at} in ${timeZone}/${weekStart}`;
          t.is(p.start.toISOString(), rows[0]!.start.toISOString(), what);
          t.is(p.end.toISOString(), rows[0]!.end.toISOString(), what);
          t.true(p.start.getTime() <= Date.parse(at) && Date.parse(at) < p.end.getTime(), what);
        }
      }
    }
  }
  t.is(
    parsePeriod('2026-09-06', 'day', { timeZone: 'America/Santiago', weekStart: 'monday' }).end.toISOString(),
    '2026-09-07T03:00:00.000Z',
  );
  t.is(
    parsePeriod('2026-03-29', 'day', BERLIN).end.getTime() -
      parsePeriod('2026-03-29', 'day', BERLIN).start.getTime(),
    23 * 3_600_000,
  );
});
