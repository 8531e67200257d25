// Local dates and wall-clock times as instants (shared/aggregate/local-time.ts) across DST changes: a time
// in a gap lands after it (as PostgreSQL's AT TIME ZONE), a time that occurs twice is its first occurrence
// (where AT TIME ZONE takes the second), as agg_local_instant cuts the aggregates' days; and a date is the
// instant its local day starts.
import test from 'ava';
import { localDate, parseZonedInstant, repeatsWallClock } from '../../shared/aggregate/local-time.ts';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

test('a date whose midnight is skipped (Santiago, day starting at 01:00) is the instant that day starts', (t) => {
  t.is(iso(parseZonedInstant('2026-09-06', 'America/Santiago')), '2026-09-06T04:00:00.000Z');
  t.is(localDate(Date.parse('2026-09-06T04:00:00Z'), 'America/Santiago'), '2026-09-06');
  t.is(localDate(Date.parse('2026-09-06T04:00:00Z') - 1, 'America/Santiago'), '2026-09-05');
  // The day before and after are ordinary.
  t.is(iso(parseZonedInstant('2026-09-05', 'America/Santiago')), '2026-09-05T04:00:00.000Z');
  t.is(iso(parseZonedInstant('2026-09-07', 'America/Santiago')), '2026-09-07T03:00:00.000Z');
});

test('a time in the spring gap lands as far after the gap as it was into it (New York)', (t) => {
  t.is(iso(parseZonedInstant('2026-03-08T02:30', 'America/New_York')), '2026-03-08T07:30:00.000Z');
  t.is(iso(parseZonedInstant('2026-03-08T02:00', 'America/New_York')), '2026-03-08T07:00:00.000Z');
  t.is(iso(parseZonedInstant('2026-03-08T01:59', 'America/New_York')), '2026-03-08T06:59:00.000Z');
  t.is(iso(parseZonedInstant('2026-03-08T03:00', 'America/New_York')), '2026-03-08T07:00:00.000Z');
  t.is(iso(parseZonedInstant('2026-03-29T02:30', 'Europe/Berlin')), '2026-03-29T01:30:00.000Z');
});

test('a time that occurs twice (fall back) is its first occurrence, east and west of UTC alike', (t) => {
  t.is(iso(parseZonedInstant('2026-11-01T01:30', 'America/New_York')), '2026-11-01T05:30:00.000Z');
  t.is(iso(parseZonedInstant('2026-11-01T00:59', 'America/New_York')), '2026-11-01T04:59:00.000Z');
  t.is(iso(parseZonedInstant('2026-11-01T02:00', 'America/New_York')), '2026-11-01T07:00:00.000Z');
  t.is(iso(parseZonedInstant('2026-10-25T02:30', 'Europe/Berlin')), '2026-10-25T00:30:00.000Z');
  t.is(iso(parseZonedInstant('2026-04-04T23:30', 'America/Santiago')), '2026-04-05T02:30:00.000Z');
  // A half-hour change (Lord Howe: +11 → +10:30 at 02:00 local).
  t.is(iso(parseZonedInstant('2026-04-05T01:45', 'Australia/Lord_Howe')), '2026-04-04T14:45:00.000Z');
  // A repeated midnight (Havana: 01:00 CDT → 00:00 CST): the day starts at the first.
  t.is(iso(parseZonedInstant('2026-11-01', 'America/Havana')), '2026-11-01T04:00:00.000Z');
  t.is(iso(parseZonedInstant('2026-10-25', 'Atlantic/Azores')), '2026-10-25T00:00:00.000Z');
});

test('every date of a year is the first instant of its local day, in zones with DST at and off midnight', (t) => {
  for (const zone of [
    'America/Santiago',
    'America/New_York',
    'Europe/Berlin',
    'Australia/Lord_Howe',
    'Asia/Beirut',
    'America/Havana',
    'Atlantic/Azores',
    'America/Asuncion',
    'UTC',
  ]) {
    for (
      let d = Date.parse('2026-01-01T00:00:00Z');
      d < Date.parse('2027-01-01T00:00:00Z');
      d += 86_400_000
    ) {
      const date = new Date(d).toISOString().slice(0, 10);
      const start = parseZonedInstant(date, zone)!;
      t.is(localDate(start, zone), date, `${zone} ${date} starts on that date`);
      t.not(localDate(start - 1, zone), date, `${zone} ${date}: nothing of the day before ${iso(start)}`);
    }
  }
});

test('a wall time that occurs twice is known as such at both its instants, and only then', (t) => {
  const repeats = (iso: string, zone: string) => repeatsWallClock(Date.parse(iso), zone);
  // Havana's midnight of 2026-11-01: 00:00 CDT (04:00Z) and 00:00 CST (05:00Z)
  t.true(repeats('2026-11-01T04:00:00Z', 'America/Havana'));
  t.true(repeats('2026-11-01T05:59:00Z', 'America/Havana'));
  t.true(repeats('2026-11-01T05:00:00Z', 'America/Havana'));
  t.false(repeats('2026-11-01T03:59:00Z', 'America/Havana'));
  t.false(repeats('2026-11-01T06:00:00Z', 'America/Havana'));
  // New York's 01:00–02:00 of 2026-11-01, east of UTC (Berlin) and a half-hour change (Lord Howe) alike
  t.true(repeats('2026-11-01T05:30:00Z', 'America/New_York'));
  t.true(repeats('2026-11-01T06:30:00Z', 'America/New_York'));
  t.false(repeats('2026-11-01T07:00:00Z', 'America/New_York'));
  t.true(repeats('2026-10-25T00:30:00Z', 'Europe/Berlin'));
  t.true(repeats('2026-10-25T01:30:00Z', 'Europe/Berlin'));
  t.true(repeats('2026-04-04T15:15:00Z', 'Australia/Lord_Howe'));
  t.false(repeats('2026-04-04T15:30:00Z', 'Australia/Lord_Howe'));
  // a skipped time is not repeated, nor is any hour of a zone without changes
  t.false(repeats('2026-09-06T04:00:00Z', 'America/Santiago'));
  t.false(repeats('2026-11-01T04:00:00Z', 'Asia/Kolkata'));
});
