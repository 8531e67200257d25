// How a number of the report document is written in PDF, DOCX and e-mail text (milliseconds without a unit:
// the column or tile label carries it). One function per kind of column, so the tests can format a JSON
// value and find exactly that text in the rendered file.
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

const grouped = (digits: number) =>
  new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const COUNT = grouped(0);
const ONE = grouped(1);
const TWO = grouped(2);
const FOUR = grouped(4);
/** Four significant digits: slopes and levels of any size (0.0001234 as much as 81,140). */
const SIGNIFICANT = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 4 });

/** Cost: cents for amounts of a dollar or more, four decimals below (LLM requests cost fractions of a cent). */
function usd(v: number): string {
  const text = Math.abs(v) >= 1 ? TWO.format(v) : FOUR.format(v);
  return v < 0 ? `-$${text.slice(1)}` : `$${text}`;
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

function time(iso: string, timeZone: string): string {
  const get = localParts(iso, timeZone);
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

/** The end of a span beside its start: the local clock time, a local midnight as 24:00 (the day it ends). */
function until(iso: string, timeZone: string): string {
  const get = localParts(iso, timeZone);
  const clock = `${get('hour')}:${get('minute')}`;
  return clock === '00:00' ? '24:00' : clock;
}

/**
 * An instant as local time of the report's zone, the zone named beside it: "2026-12-07 04:37 (Asia/Kolkata)".
 * The subtitle's "Generated …" and the footer's "generated …" both write it so, one reading of one instant.
 */
export function zonedTimeText(iso: string, timeZone: string): string {
  return `${time(iso, timeZone)} (${timeZone})`;
}

/** The display text of a value; null is an em dash ("no data"). */
export function formatValue(value: unknown, kind: ValueKind, timeZone = 'UTC'): string {
  if (value === null || value === undefined) return '—';
  if (kind === 'text' || kind === 'date') return String(value);
  if (kind === 'time') return time(String(value), timeZone);
  if (kind === 'until') return until(String(value), timeZone);
  const v = Number(value);
  switch (kind) {
    case 'count':
      return Number.isInteger(v) ? COUNT.format(v) : ONE.format(v);
    case 'number':
      return TWO.format(v);
    case 'significant':
      return SIGNIFICANT.format(v);
    case 'usd':
      return usd(v);
    case 'ms':
      return ONE.format(v);
    case 'rate':
      return `${TWO.format(v * 100)} %`;
    case 'rate_change':
      // a rate's change is in percentage points: "-0.02 %" beside a "Change %" column reads as a relative change
      return `${v > 0 ? '+' : ''}${TWO.format(v * 100)} pp`;
    case 'pct':
      return `${ONE.format(v)} %`;
    case 'change_pct':
      return `${v > 0 ? '+' : ''}${ONE.format(v)} %`;
  }
}

/** Where a report's numbers come from, for its subtitle: the views and tables it read. */
export function sourceText(doc: { source: { views: readonly string[] } }): string {
  return doc.source.views.length > 0 ? doc.source.views.join(', ') : 'the database';
}
