import test from 'ava';
import { assertSupportedTimeZone, utcOffsetMinutes } from '../../shared/aggregate/index.ts';
import { dayStartInside, localDate } from '../../shared/aggregate/local-time.ts';
import { isBatchError } from '../../shared/errors/index.ts';

const HOUR = 3_600_000;
const YEAR_FROM = new Date('2026-01-01T00:00:00Z');
const YEAR_TO = new Date('2027-01-01T00:00:00Z');

/** The instants local days start at strictly inside a UTC hour, over [from, to), as ISO strings. */
function dayStartsInsideHours(zone: string, from: string, to: string): string[] {
  const out: string[] = [];
  for (let h = Date.parse(from); h < Date.parse(to); h += HOUR) {
    const start = dayStartInside(h, zone);
    if (start !== undefined) out.push(new Date(start).toISOString());
  }
  return out;
}

test('reads UTC offsets including DST and half-hour zones', (t) => {
  t.is(utcOffsetMinutes('UTC', YEAR_FROM), 0);
  t.is(utcOffsetMinutes('Europe/Berlin', new Date('2026-01-15T12:00:00Z')), 60);
  t.is(utcOffsetMinutes('Europe/Berlin', new Date('2026-07-15T12:00:00Z')), 120);
  t.is(utcOffsetMinutes('America/New_York', new Date('2026-07-15T12:00:00Z')), -240);
  t.is(utcOffsetMinutes('Asia/Kolkata', YEAR_FROM), 330);
  t.is(utcOffsetMinutes('Asia/Kathmandu', YEAR_FROM), 345);
  t.is(utcOffsetMinutes('Australia/Adelaide', YEAR_FROM), 630);
  t.is(utcOffsetMinutes('Australia/Adelaide', new Date('2026-07-01T00:00:00Z')), 570);
});

test('every zone in use is accepted over a year with its DST changes, half- and quarter-hour ones too', (t) => {
  for (const zone of [
    'UTC',
    'Europe/Berlin',
    'America/New_York',
    'Australia/Sydney',
    'Asia/Tokyo',
    'Asia/Kolkata',
    'Asia/Kathmandu',
    'Australia/Adelaide',
    'Australia/Lord_Howe',
    'Pacific/Chatham',
    'America/St_Johns',
  ]) {
    t.notThrows(() => assertSupportedTimeZone(zone, YEAR_FROM, YEAR_TO), zone);
  }
});

test('zones whose days never start inside a UTC hour have no day start inside one', (t) => {
  for (const zone of ['UTC', 'Europe/Berlin', 'America/New_York']) {
    t.deepEqual(dayStartsInsideHours(zone, '2026-03-01T00:00:00Z', '2026-11-30T00:00:00Z'), [], zone);
  }
});

test('Asia/Kolkata and Asia/Kathmandu days start at 18:30 and 18:15 UTC, every day', (t) => {
  t.deepEqual(dayStartsInsideHours('Asia/Kolkata', '2026-11-28T00:00:00Z', '2026-12-01T00:00:00Z'), [
    '2026-11-28T18:30:00.000Z',
    '2026-11-29T18:30:00.000Z',
    '2026-11-30T18:30:00.000Z',
  ]);
  t.deepEqual(dayStartsInsideHours('Asia/Kathmandu', '2026-11-28T00:00:00Z', '2026-11-30T00:00:00Z'), [
    '2026-11-28T18:15:00.000Z',
    '2026-11-29T18:15:00.000Z',
  ]);
  t.is(localDate(Date.parse('2026-11-30T18:29:59.999Z'), 'Asia/Kolkata'), '2026-11-30');
  t.is(localDate(Date.parse('2026-11-30T18:30:00.000Z'), 'Asia/Kolkata'), '2026-12-01');
});

test('Australia/Adelaide: midnights move by an hour across both DST changes of 2026', (t) => {
  // DST ends Sun 04-05 03:00 (+10:30 → +09:30); starts Sun 10-04 02:00 (+09:30 → +10:30).
  t.deepEqual(dayStartsInsideHours('Australia/Adelaide', '2026-04-03T00:00:00Z', '2026-04-07T00:00:00Z'), [
    '2026-04-03T13:30:00.000Z', // Sat 04-04, +10:30
    '2026-04-04T13:30:00.000Z', // Sun 04-05, still +10:30 at midnight; the day lasts 25 hours
    '2026-04-05T14:30:00.000Z', // Mon 04-06, +09:30
    '2026-04-06T14:30:00.000Z',
  ]);
  t.deepEqual(dayStartsInsideHours('Australia/Adelaide', '2026-10-02T00:00:00Z', '2026-10-06T00:00:00Z'), [
    '2026-10-02T14:30:00.000Z', // Sat 10-03, +09:30
    '2026-10-03T14:30:00.000Z', // Sun 10-04, 23 hours
    '2026-10-04T13:30:00.000Z', // Mon 10-05, +10:30
    '2026-10-05T13:30:00.000Z',
  ]);
});

test('Australia/Lord_Howe: a half-hour DST shift puts midnights on the hour in summer only', (t) => {
  // +11:00 in summer (midnight 13:00 UTC, on the hour: no day start inside an hour), +10:30 in winter.
  t.deepEqual(dayStartsInsideHours('Australia/Lord_Howe', '2026-04-02T00:00:00Z', '2026-04-07T00:00:00Z'), [
    '2026-04-05T13:30:00.000Z', // Mon 04-06; Sun 04-05 (02:00 → 01:30) started at 13:00 UTC
    '2026-04-06T13:30:00.000Z',
  ]);
  t.deepEqual(dayStartsInsideHours('Australia/Lord_Howe', '2026-10-01T00:00:00Z', '2026-10-06T00:00:00Z'), [
    '2026-10-01T13:30:00.000Z',
    '2026-10-02T13:30:00.000Z',
    '2026-10-03T13:30:00.000Z', // Sun 10-04 starts at +10:30; at 02:00 clocks go to 02:30
  ]);
  t.is(dayStartInside(Date.parse('2026-10-04T13:00:00Z'), 'Australia/Lord_Howe'), undefined);
});

test('a start on the hour is not inside it; the hour before a start inside one holds none', (t) => {
  t.is(dayStartInside(Date.parse('2026-11-30T00:00:00Z'), 'UTC'), undefined);
  t.is(dayStartInside(Date.parse('2026-11-30T17:00:00Z'), 'Asia/Kolkata'), undefined);
  t.is(dayStartInside(Date.parse('2026-11-30T19:00:00Z'), 'Asia/Kolkata'), undefined);
  t.is(
    dayStartInside(Date.parse('2026-11-30T18:00:00Z'), 'Asia/Kolkata'),
    Date.parse('2026-11-30T18:30:00Z'),
  );
});

test('a day start off the quarter hours (local mean time before ~1900) is refused, naming the offset', (t) => {
  // Asia/Kolkata kept +05:21:10 (Madras time) until 1941 in the zone database.
  const err = t.throws(() =>
    assertSupportedTimeZone(
      'Asia/Kolkata',
      new Date('1900-01-01T00:00:00Z'),
      new Date('1900-01-02T00:00:00Z'),
    ),
  );
  t.true(isBatchError(err, 'TIMEZONE_UNSUPPORTED'));
  t.true(err?.message.includes('"Asia/Kolkata"'), err?.message);
  t.true(err?.message.includes('UTC+05:21:10'), err?.message);
  t.true(err?.message.includes('not a whole number of quarter hours'), err?.message);
  t.is((err as { context?: { timeZone?: string } }).context?.timeZone, 'Asia/Kolkata');
});

test('an unknown zone is refused with the expected form', (t) => {
  const err = t.throws(() => assertSupportedTimeZone('Mars/Olympus_Mons', YEAR_FROM, YEAR_TO));
  t.true(isBatchError(err, 'TIMEZONE_UNSUPPORTED'));
  t.regex(err?.message ?? '', /"Mars\/Olympus_Mons" is not a known IANA zone; use a name such as "UTC"/);
});
