// A report's period: one bucket of its type's aggregation level (an hour in UTC; a day, week or month in the
// configured zone), named the way people write it: 2026-11-28T10 (hour), 2026-11-28 (day), 2026-W48 (week),
// 2026-11 (month). The bounds equal the aggregation's own buckets (agg_bucket_start/agg_bucket_end in SQL:
// test/unit/reports-period.test.ts holds the two together, DST days included).
import type { CalendarOptions, Level } from '../aggregate/index.ts';
import { utcOffsetMinutes, wallClockToInstant } from '../aggregate/index.ts';
import { BatchError } from '../errors/index.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export interface Period {
  level: Level;
  start: Date;
  /** Exclusive. */
  end: Date;
  /** 2026-11-28T10 | 2026-11-28 | 2026-W48 | 2026-11 */
  label: string;
  /** The local date the period starts on, YYYY-MM-DD (the object key's folder). */
  startDate: string;
  timeZone: string;
}

interface LocalDate {
  y: number;
  m: number; // 1-12
  d: number;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
const dateText = (l: LocalDate): string => `${l.y}-${pad(l.m)}-${pad(l.d)}`;

/**
 * The UTC instant of local midnight starting `date` in `zone` (any offset: 18:30 UTC the day before in
 * Asia/Kolkata), placed as the aggregation's buckets are: a skipped midnight is the first instant of the day.
 */
export function localMidnight(date: LocalDate, zone: string): Date {
  return new Date(wallClockToInstant(Date.UTC(date.y, date.m - 1, date.d), zone));
}

/** The local calendar date of an instant in `zone`. */
export function localDateOf(at: Date, zone: string): LocalDate {
  const wall = new Date(at.getTime() + utcOffsetMinutes(zone, at) * 60_000);
  return { y: wall.getUTCFullYear(), m: wall.getUTCMonth() + 1, d: wall.getUTCDate() };
}

/** The local date of an instant in `zone` as YYYY-MM-DD. */
export function localDayText(at: Date, zone: string): string {
  return dateText(localDateOf(at, zone));
}

function addDays(date: LocalDate, days: number): LocalDate {
  const t = new Date(Date.UTC(date.y, date.m - 1, date.d) + days * DAY_MS);
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

/**
 * The first instant of the local date `days` after (before, when negative) the local date of `at` in `zone`:
 * counted in dates, so a day of 23 or 25 hours between is one day (28 days before Havana's 2026-11-08 is
 * 2026-10-11 at its midnight, where 28 × 24 hours lands an hour off it).
 */
export function localMidnightDaysAfter(at: Date, days: number, zone: string): Date {
  return localMidnight(addDays(localDateOf(at, zone), days), zone);
}

/** The number of local dates from that of `from` to that of `to` in `zone` (a week's start to its end: 7). */
export function localDaysBetween(from: Date, to: Date, zone: string): number {
  const utc = (l: LocalDate): number => Date.UTC(l.y, l.m - 1, l.d);
  return Math.round((utc(localDateOf(to, zone)) - utc(localDateOf(from, zone))) / DAY_MS);
}

/** 0 = Monday … 6 = Sunday. */
function isoWeekday(date: LocalDate): number {
  return (new Date(Date.UTC(date.y, date.m - 1, date.d)).getUTCDay() + 6) % 7;
}

/** ISO week-year and week of the Monday `monday`. */
function isoWeekOf(monday: LocalDate): { year: number; week: number } {
  const thursday = addDays(monday, 3);
  const jan1 = Date.UTC(thursday.y, 0, 1);
  const week = Math.floor((Date.UTC(thursday.y, thursday.m - 1, thursday.d) - jan1) / (7 * DAY_MS)) + 1;
  return { year: thursday.y, week };
}

/** The Monday of ISO week `week` of `year`. */
function mondayOfIsoWeek(year: number, week: number): LocalDate {
  const jan4: LocalDate = { y: year, m: 1, d: 4 };
  return addDays(addDays(jan4, -isoWeekday(jan4)), (week - 1) * 7);
}

function weeksInIsoYear(year: number): number {
  return isoWeekOf(addDays(mondayOfIsoWeek(year + 1, 1), -7)).week;
}

/** The first local day of the period of `level` containing the local date `date`. */
function periodStartDate(
  level: Exclude<Level, 'hour'>,
  date: LocalDate,
  calendar: CalendarOptions,
): LocalDate {
  switch (level) {
    case 'day':
      return date;
    case 'week': {
      const back = calendar.weekStart === 'sunday' ? (isoWeekday(date) + 1) % 7 : isoWeekday(date);
      return addDays(date, -back);
    }
    case 'month':
      return { y: date.y, m: date.m, d: 1 };
  }
}

function nextStartDate(level: Exclude<Level, 'hour'>, start: LocalDate): LocalDate {
  if (level === 'day') return addDays(start, 1);
  if (level === 'week') return addDays(start, 7);
  return start.m === 12 ? { y: start.y + 1, m: 1, d: 1 } : { y: start.y, m: start.m + 1, d: 1 };
}

function labelOf(level: Exclude<Level, 'hour'>, start: LocalDate, calendar: CalendarOptions): string {
  if (level === 'day') return dateText(start);
  if (level === 'month') return `${start.y}-${pad(start.m)}`;
  // a Sunday-start week is named after the ISO week of its Monday (the next day)
  const monday = calendar.weekStart === 'sunday' ? addDays(start, 1) : start;
  const { year, week } = isoWeekOf(monday);
  return `${year}-W${pad(week)}`;
}

function calendarPeriod(level: Exclude<Level, 'hour'>, start: LocalDate, calendar: CalendarOptions): Period {
  return {
    level,
    start: localMidnight(start, calendar.timeZone),
    end: localMidnight(nextStartDate(level, start), calendar.timeZone),
    label: labelOf(level, start, calendar),
    startDate: dateText(start),
    timeZone: calendar.timeZone,
  };
}

function hourPeriod(startMs: number, calendar: CalendarOptions): Period {
  const start = new Date(startMs);
  const iso = start.toISOString();
  return {
    level: 'hour',
    start,
    end: new Date(startMs + HOUR_MS),
    label: `${iso.slice(0, 10)}T${iso.slice(11, 13)}`,
    startDate: iso.slice(0, 10),
    timeZone: calendar.timeZone,
  };
}

/** The period of `level` containing the instant `at`. */
export function periodContaining(level: Level, at: Date, calendar: CalendarOptions): Period {
  if (level === 'hour') return hourPeriod(Math.floor(at.getTime() / HOUR_MS) * HOUR_MS, calendar);
  return calendarPeriod(
    level,
    periodStartDate(level, localDateOf(at, calendar.timeZone), calendar),
    calendar,
  );
}

/** The period just before `period`. */
export function previousPeriod(period: Period, calendar: CalendarOptions): Period {
  return periodContaining(period.level, new Date(period.start.getTime() - 1), calendar);
}

/** The most recent period of `level` that has ended by `now`. */
export function lastCompletePeriod(level: Level, now: Date, calendar: CalendarOptions): Period {
  return previousPeriod(periodContaining(level, now, calendar), calendar);
}

/** The periods of `level` whose start lies in [from, to), oldest first. */
export function periodsBetween(level: Level, from: Date, to: Date, calendar: CalendarOptions): Period[] {
  const out: Period[] = [];
  let p = periodContaining(level, from, calendar);
  if (p.start < from) p = periodContaining(level, p.end, calendar);
  while (p.start < to) {
    out.push(p);
    p = periodContaining(level, p.end, calendar);
  }
  return out;
}

const FORMS: Readonly<Record<Level, string>> = {
  hour: 'an hour in ISO form, e.g. "2026-11-28T10" or "2026-11-28T10:00:00Z"',
  day: 'a date, e.g. "2026-11-28"',
  week: 'an ISO week "2026-W48" (or a date inside it)',
  month: 'a month "2026-11" (or a date inside it)',
};

function invalid(text: string, level: Level, why: string): BatchError {
  return new BatchError(
    'REQUEST_INVALID',
    `period ${JSON.stringify(text)} ${why}; for this report type give ${FORMS[level]}, or leave it out for the last complete period`,
    { context: { field: 'period', period: text, expected: FORMS[level] } },
  );
}

function checkedDate(text: string, y: number, m: number, d: number, level: Level): LocalDate {
  const t = new Date(Date.UTC(y, m - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== m - 1 || t.getUTCDate() !== d) {
    throw invalid(text, level, 'is not a calendar date');
  }
  return { y, m, d };
}

/** Parses a period as the API takes it; REQUEST_INVALID (field "period") names the form expected. */
export function parsePeriod(text: string, level: Level, calendar: CalendarOptions): Period {
  const s = text.trim();
  if (level === 'hour') {
    const short = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})$/.exec(s);
    const ms = short
      ? Date.parse(`${s}:00:00Z`)
      : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(s)
        ? Date.parse(s)
        : Number.NaN;
    if (Number.isNaN(ms)) throw invalid(text, level, 'is not an hour');
    if (ms % HOUR_MS !== 0) throw invalid(text, level, 'does not start on a whole hour');
    return hourPeriod(ms, calendar);
  }
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (day) {
    const date = checkedDate(text, Number(day[1]), Number(day[2]), Number(day[3]), level);
    return calendarPeriod(level, periodStartDate(level, date, calendar), calendar);
  }
  const week = /^(\d{4})-W(\d{2})$/.exec(s);
  if (week && level === 'week') {
    const year = Number(week[1]);
    const n = Number(week[2]);
    if (n < 1 || n > weeksInIsoYear(year)) throw invalid(text, level, `names no week of ${year}`);
    const monday = mondayOfIsoWeek(year, n);
    return calendarPeriod(level, calendar.weekStart === 'sunday' ? addDays(monday, -1) : monday, calendar);
  }
  const month = /^(\d{4})-(\d{2})$/.exec(s);
  if (month && level === 'month') {
    const date = checkedDate(text, Number(month[1]), Number(month[2]), 1, level);
    return calendarPeriod(level, date, calendar);
  }
  throw invalid(text, level, 'is not in the form this report type takes');
}
