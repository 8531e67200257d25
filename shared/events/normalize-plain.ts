// normalizeEvent for the plain text form (plain-event-text.ts), without a parse tree: what the store
// writes, as text, for an event that passes every check of the contract, or undefined for anything else
// (refused, unusual, or simply not plain) — the caller then runs normalizeEvent, which decides and
// explains. Only events that carry their own timestamp are answered here; the fallbacks stay with
// normalizeEvent.
import { inferCostOfMetrics, withInferredCost } from '../pricing/infer.ts';
import {
  DEFAULT_DIMENSION_KEYS,
  acceptedTimeRange,
  dimensionKeySet,
  type CostInference,
  type NormalizeContext,
} from './normalize.ts';
import { mayHideNonNumericMetric } from './metric-fields.ts';
import { plainEventType, plainText, plainTimestampValue } from './plain-envelope.ts';
import { scanPlainEvent } from './plain-event-text.ts';

/**
 * No string here holds a backslash or a control character, and none but dataJson a quote: nothing needs
 * escaping in a JSON object, and nothing PostgreSQL refuses (NUL, a lone surrogate) can be among them.
 */
export interface PlainNormalizedEvent {
  /** The event's own id (its identity on every path), when it has one. */
  id: string | undefined;
  eventType: string;
  /** UTC, as Date#toISOString writes it. */
  isoTimestamp: string;
  /** The same instant in epoch milliseconds. */
  timestampMs: number;
  source: string;
  /** Sorted by name, as NormalizedEvent; values as String() writes them (booleans 1/0). */
  metricNames: string[];
  metricTexts: string[];
  dimensionNames: string[];
  dimensionValues: string[];
  /** JSON.stringify of the event's data. */
  dataJson: string;
  /** Set when the price table applied (context.prices), as NormalizedEvent's. */
  cost?: CostInference | undefined;
}

const DIGIT_0 = 0x30;

/** The decimal number in text[from, from+length), or -1 when a character is not a digit. */
function digitsAt(text: string, from: number, length: number): number {
  let n = 0;
  for (let i = from; i < from + length; i++) {
    const d = text.charCodeAt(i) - DIGIT_0;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
/** Days in `month` (1–12) of `year`. */
function daysIn(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : (MONTH_DAYS[month - 1] as number);
}

/**
 * Epoch milliseconds of a timestamp already in toISOString's form (YYYY-MM-DDTHH:MM:SS.sssZ, the form
 * most producers send), checked field by field; undefined for every other string.
 */
function isoUtcMs(text: string): number | undefined {
  if (text.length !== 24 || text[4] !== '-' || text[7] !== '-' || text[10] !== 'T') return undefined;
  if (text[13] !== ':' || text[16] !== ':' || text[19] !== '.' || text[23] !== 'Z') return undefined;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  const ms = digitsAt(text, 20, 3);
  // Date.UTC reads years 0–99 as 1900–1999.
  if (year < 100 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return undefined;
  if (minute < 0 || minute > 59 || second < 0 || second > 59 || ms < 0) return undefined;
  if (day > daysIn(year, month)) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/** The instant and its ISO text, for a timestamp field the schema accepts; undefined otherwise. */
function resolveTimestamp(value: string | number | undefined): { ms: number; iso: string } | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') {
    const ms = isoUtcMs(value);
    if (ms !== undefined) return { ms, iso: value };
  }
  if (!plainTimestampValue(value)) return undefined;
  const date = new Date(value);
  return { ms: date.getTime(), iso: date.toISOString() };
}

/** What normalizeEvent would give for `raw`, as the store's text, when it is a plain, valid event. */
export function normalizePlainEvent(
  raw: Buffer,
  context: NormalizeContext,
): PlainNormalizedEvent | undefined {
  const { limits } = context;
  if (raw.length > limits.maxEventBytes) return undefined;
  const dimensionKeys = dimensionKeySet(context.dimensionKeys ?? DEFAULT_DIMENSION_KEYS);
  const text = scanPlainEvent(raw.toString('utf8'), dimensionKeys);
  if (text === undefined || text.fieldCount > limits.maxFields || !plainEventType(text.eventType)) {
    return undefined;
  }
  if (mayHideNonNumericMetric(text.eventType, text.metricNames, text.dataJson)) return undefined;
  if (text.source !== undefined && !plainText(text.source)) return undefined;
  if (text.id !== undefined && !plainText(text.id)) return undefined;
  const timestamp = resolveTimestamp(text.timestamp);
  if (timestamp === undefined) return undefined;
  const { earliest, latest } = acceptedTimeRange(context);
  if (timestamp.ms < earliest || timestamp.ms > latest) return undefined;
  if (context.archivedDays?.dayOf(timestamp.ms) !== undefined) return undefined;
  let cost: CostInference | undefined;
  if (context.prices) {
    const modelAt = text.dimensionNames.indexOf('model');
    const model = modelAt < 0 ? undefined : text.dimensionValues[modelAt];
    const outcome = inferCostOfMetrics(
      context.prices,
      text.eventType,
      timestamp.ms,
      model,
      text.metricNames,
      (i) => Number(text.metricTexts[i]),
    );
    // Without `model` among the dimension keys the scan does not read data.model: the general path decides.
    if (outcome.kind !== 'none' && model === undefined && !dimensionKeys.has('model')) return undefined;
    if (outcome.kind === 'inferred')
      withInferredCost(text.metricNames, text.metricTexts, outcome.costUsd, String);
    if (outcome.kind !== 'none') cost = outcome.kind;
  }
  return {
    id: text.id,
    eventType: text.eventType,
    isoTimestamp: timestamp.iso,
    timestampMs: timestamp.ms,
    source: text.source ?? 'unknown',
    metricNames: text.metricNames,
    metricTexts: text.metricTexts,
    dimensionNames: text.dimensionNames,
    dimensionValues: text.dimensionValues,
    dataJson: text.dataJson,
    ...(cost ? { cost } : {}),
  };
}
