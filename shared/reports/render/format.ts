// How a number of the report document is written in PDF, DOCX and e-mail text (milliseconds without a unit:
// the column or tile label carries it). One function per kind of column, so the tests can format a JSON
// value and find exactly that text in the rendered file.
import { localDate, repeatsWallClock, utcOffsetMinutes } from '../../aggregate/index.ts';
export type ValueKind =
  | 'text'
  | 'count'
  | 'number'
  | 'significant'
  | 'usd'
  | 'ms'
  | 'rate'
  | 'rate_change'
  | 'pct'
  | 'change_pct'
  | 'time'
  | 'until'
  | 'date';

const formats = new Map<number, Intl.NumberFormat>();
/** A number grouped by thousands with exactly `digits` decimals. */
function fixed(v: number, digits: number): string {
  let f = formats.get(digits);
  if (!f) {
    f = new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
    formats.set(digits, f);
  }
  return f.format(v);
}
/** Four significant digits: slopes and levels of any size (0.0001234 as much as 81,140). */
const SIGNIFICANT = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 4 });

/** Significant digits of a cost below a dollar. */
const USD_SIGNIFICANT = 3;
/**
 * Cost: cents for amounts of a dollar or more; below, three significant digits. An LLM request costs a few
 * hundredths of a cent: four fixed decimals wrote $0.000117 and $0.000353 as $0.0001 and $0.0004, so per-request
 * costs of different models could not be compared (and two unlike ones read the same).
 */
function usdDecimals(v: number): number {
  const a = Math.abs(v);
  if (a >= 1 || a === 0 || !Number.isFinite(a)) return 2;
  return Math.max(2, USD_SIGNIFICANT - 1 - Math.floor(Math.log10(a)));
}
/** A count: whole numbers as they are, a fractional one (a mean per hour) with one decimal. */
const countDecimals = (v: number): number => (Number.isInteger(v) ? 0 : 1);

function usd(v: number, decimals: number): string {
  const text = fixed(v, decimals);
  return v < 0 ? `-$${text.slice(1)}` : `$${text}`;
}

/** The most digits a cost of a dollar or more may show to share its column's decimals; past it, each has its own. */
const USD_SHARED_DIGITS = 5;

/**
 * The decimals of numbers written side by side — a table column, a figure beside the previous period's — so
 * they line up: the most any of them takes alone ($1.170 beside $0.217, not $1.17; 38.0 beside 36.6).
 * undefined for kinds whose decimals are fixed or per value (significant digits: a column of unlike metrics),
 * and for costs too far apart to share them: $1,234.56 beside $0.000117 would be $1,234.560000.
 */
export function sharedDecimals(kind: ValueKind, values: readonly unknown[]): number | undefined {
  const each = kind === 'usd' ? usdDecimals : kind === 'count' ? countDecimals : undefined;
  if (!each) return undefined;
  let decimals = 0;
  let largest = 0;
  for (const value of values) {
    if (value === null || value === undefined || !Number.isFinite(Number(value))) continue;
    // a zero cost is no reason for more decimals, nor for two: it takes what the others take
    if (kind === 'usd' && Number(value) === 0) continue;
    decimals = Math.max(decimals, each(Number(value)));
    largest = Math.max(largest, Math.abs(Number(value)));
  }
  if (kind !== 'usd') return decimals;
  // only a column reaching a dollar or more can be stretched so (below, $0.013100 beside $0.000412 is fine)
  const whole = largest >= 1 ? Math.floor(Math.log10(largest)) + 1 : 0;
  return whole > 0 && decimals > 2 && whole + decimals > USD_SHARED_DIGITS
    ? undefined
    : Math.max(decimals, 2);
}

function localParts(iso: string, timeZone: string): (type: string) => string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(iso));
  return (type: string) => parts.find((p) => p.type === type)?.value ?? '';
}

/** A UTC offset as the hours (and minutes) from UTC, with a minus sign: "−05", "+00", "+05:30". */
function offsetText(minutes: number): string {
  const a = Math.abs(minutes);
  const hh = String(Math.floor(a / 60)).padStart(2, '0');
  const mm = a % 60 ? `:${String(a % 60).padStart(2, '0')}` : '';
  return `${minutes < 0 ? '\u2212' : '+'}${hh}${mm}`;
}

/**
 * The local clock time of an instant, with its UTC offset where that wall time occurs twice: Havana's 2026-11-01
 * has two hours from 00:00, "00:00 −04" and "00:00 −05", which read the same without it.
 */
function clock(iso: string, timeZone: string, get: (type: string) => string): string {
  const text = `${get('hour')}:${get('minute')}`;
  const at = new Date(iso);
  return repeatsWallClock(at.getTime(), timeZone)
    ? `${text} ${offsetText(utcOffsetMinutes(timeZone, at))}`
    : text;
}

function time(iso: string, timeZone: string): string {
  const get = localParts(iso, timeZone);
  return `${get('year')}-${get('month')}-${get('day')} ${clock(iso, timeZone, get)}`;
}

/**
 * The end of a span beside its start: its local clock time, or 24:00 where it starts a new local date — the
 * end of the day's last span. By the date, not the clock: Havana's first 00:00 of 2026-11-01 ends at the
 * second one ("00:00 −05", not 24:00), and Santiago's 2026-09-05 ends at 01:00 of the 6th (its midnight is
 * skipped), which is 24:00 of the 5th.
 */
function until(iso: string, timeZone: string): string {
  const end = Date.parse(iso);
  if (localDate(end - 1, timeZone) !== localDate(end, timeZone)) return '24:00';
  return clock(iso, timeZone, localParts(iso, timeZone));
}

/**
 * An instant as local time of the report's zone, the zone named beside it: "2026-12-07 04:37 (Asia/Kolkata)".
 * The subtitle's "Generated …" and the footer's "generated …" both write it so, one reading of one instant.
 */
export function zonedTimeText(iso: string, timeZone: string): string {
  return `${time(iso, timeZone)} (${timeZone})`;
}

/**
 * The display text of a value; null is an em dash ("no data"). `decimals` (sharedDecimals) makes a count or a
 * cost line up with the values written beside it; without it the value's own are taken.
 */
export function formatValue(value: unknown, kind: ValueKind, timeZone = 'UTC', decimals?: number): string {
  if (value === null || value === undefined) return '—';
  if (kind === 'text' || kind === 'date') return String(value);
  if (kind === 'time') return time(String(value), timeZone);
  if (kind === 'until') return until(String(value), timeZone);
  const v = Number(value);
  switch (kind) {
    case 'count':
      return fixed(v, decimals ?? countDecimals(v));
    case 'number':
      return fixed(v, 2);
    case 'significant':
      return SIGNIFICANT.format(v);
    case 'usd':
      return usd(v, decimals ?? usdDecimals(v));
    case 'ms':
      return fixed(v, 1);
    case 'rate':
      return `${fixed(v * 100, 2)} %`;
    case 'rate_change':
      // a rate's change is in percentage points: "-0.02 %" beside a "Change %" column reads as a relative change
      return `${v > 0 ? '+' : ''}${fixed(v * 100, 2)} pp`;
    case 'pct':
      return `${fixed(v, 1)} %`;
    case 'change_pct':
      return `${v > 0 ? '+' : ''}${fixed(v, 1)} %`;
  }
}

/**
 * A trend metric whose daily value is a fraction — error, the mean of a 0/1 flag, is the error rate — and is
 * written as a percent, as the error rate is everywhere else.
 */
export function isRateMetric(metric: string): boolean {
  return metric === 'error';
}

/** Where a report's numbers come from, for its subtitle: the views and tables it read. */
export function sourceText(doc: { source: { views: readonly string[] } }): string {
  return doc.source.views.length > 0 ? doc.source.views.join(', ') : 'the database';
}
