import test from 'ava';
import { assertSupportedTimeZone, utcOffsetMinutes } from '../../shared/aggregate/index.ts';
import { isBatchError } from '../../shared/errors/index.ts';

const YEAR_FROM = new Date('2026-01-01T00:00:00Z');
const YEAR_TO = new Date('2027-01-01T00:00:00Z');

test('reads UTC offsets including DST and half-hour zones', (t) => {
  t.is(utcOffsetMinutes('UTC', YEAR_FROM), 0);
  t.is(utcOffsetMinutes('Europe/Berlin', new Date('2026-01-15T12:00:00Z')), 60);
  t.is(utcOffsetMinutes('Europe/Berlin', new Date('2026-07-15T12:00:00Z')), 120);
  t.is(utcOffsetMinutes('America/New_York', new Date('2026-07-15T12:00:00Z')), -240);
  t.is(utcOffsetMinutes('Asia/Kolkata', YEAR_FROM), 330);
  t.is(utcOffsetMinutes('Asia/Kathmandu', YEAR_FROM), 345);
});

test('whole-hour zones are accepted over a year with DST changes', (t) => {
  for (const zone of ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Asia/Tokyo']) {
    t.notThrows(() => assertSupportedTimeZone(zone, YEAR_FROM, YEAR_TO), zone);
  }
});

for (const [zone, offset] of [
  ['Asia/Kolkata', 'UTC+05:30'],
  ['Asia/Kathmandu', 'UTC+05:45'],
  ['Australia/Adelaide', 'UTC+10:30'],
] as const) {
  test(`${zone} is refused with TIMEZONE_UNSUPPORTED naming the zone, its offset and why`, (t) => {
    const err = t.throws(() => assertSupportedTimeZone(zone, YEAR_FROM, YEAR_TO));
    t.true(isBatchError(err, 'TIMEZONE_UNSUPPORTED'));
    t.true(err?.message.includes(`"${zone}"`), err?.message);
    t.true(err?.message.includes('not a whole number of hours'), err?.message);
    t.true(err?.message.includes('would not nest in its days'), err?.message);
    // Adelaide is +10:30 in January (DST); +09:30 otherwise: either way a half hour.
    if (zone !== 'Australia/Adelaide') t.true(err?.message.includes(offset), err?.message);
    t.is((err as { context?: { timeZone?: string } }).context?.timeZone, zone);
  });
}

test('a zone that is half-hour only part of the time is refused when the range reaches that part', (t) => {
  // Australia/Lord_Howe: +10:30 in winter, +11:00 in summer (a half-hour DST shift).
  const summer = new Date('2026-01-10T00:00:00Z');
  t.is(utcOffsetMinutes('Australia/Lord_Howe', summer), 660);
  t.notThrows(() => assertSupportedTimeZone('Australia/Lord_Howe', summer, new Date('2026-01-20T00:00:00Z')));
  const err = t.throws(() =>
    assertSupportedTimeZone('Australia/Lord_Howe', summer, new Date('2026-07-01T00:00:00Z')),
  );
  t.true(isBatchError(err, 'TIMEZONE_UNSUPPORTED'));
  t.true(err?.message.includes('UTC+10:30'), err?.message);
});

test('an unknown zone is refused with the expected form', (t) => {
  const err = t.throws(() => assertSupportedTimeZone('Mars/Olympus_Mons', YEAR_FROM, YEAR_TO));
  t.true(isBatchError(err, 'TIMEZONE_UNSUPPORTED'));
  t.regex(err?.message ?? '', /"Mars\/Olympus_Mons" is not a known IANA zone; use a name such as "UTC"/);
});
