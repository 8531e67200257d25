// PostgreSQL COPY text format (the default of `COPY … FROM STDIN`): one row per line, columns split
// by tabs, and backslash escapes for backslash, newline, carriage return and tab. Array columns are
// array literals ({"a","b"}) escaped once more for COPY. NUL cannot be stored in text or jsonb, so
// rows holding it are rejected before they get here (see storable.ts).
import type { PlainNormalizedEvent } from '../events/normalize-plain.ts';

const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_SPECIAL_ALL = /[\\\n\r\t]/g;
const COPY_REPLACEMENT: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const replaceCopy = (c: string): string => COPY_REPLACEMENT[c] ?? c;

/** Escapes one text value for a COPY text column. */
export function copyText(value: string): string {
  return COPY_SPECIAL.test(value) ? value.replace(COPY_SPECIAL_ALL, replaceCopy) : value;
}

const ARRAY_SPECIAL = /["\\]/;
const ARRAY_SPECIAL_ALL = /["\\]/g;

/** A text[] as an array literal with every element quoted (so "NULL", "" and "{" stay strings). */
export function arrayLiteral(values: readonly string[]): string {
  if (values.length === 0) return '{}';
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    const value = values[i] as string;
    out += '"' + (ARRAY_SPECIAL.test(value) ? value.replace(ARRAY_SPECIAL_ALL, '\\$&') : value) + '"';
  }
  return out + '}';
}

/** An array literal of strings holding no quote, backslash or control character (nothing to escape). */
function plainArrayLiteral(values: readonly string[]): string {
  return values.length === 0 ? '{}' : '{"' + values.join('","') + '"}';
}

// Anything that needs escaping in an array element or in a COPY column.
const ARRAY_OR_COPY_SPECIAL = /["\\\n\r\t]/;

/** copyText(arrayLiteral(values)) with one test per element and no escaping pass in the common case. */
export function copyArrayLiteral(values: readonly string[]): string {
  for (const value of values) {
    if (ARRAY_OR_COPY_SPECIAL.test(value)) return copyText(arrayLiteral(values));
  }
  return plainArrayLiteral(values);
}

/** A float8[] literal. Values are finite (the normaliser rejects the rest); String() gives 1e+21 forms float8in reads. */
export function floatArrayLiteral(values: readonly number[]): string {
  return '{' + values.join(',') + '}';
}

export interface CopyRow {
  ts: string;
  eventType: string;
  source: string;
  idempotencyKey: string;
  metricNames: readonly string[];
  metricValues: readonly number[];
  dimensionNames: readonly string[];
  dimensionValues: readonly string[];
  dataJson: string;
}

/** One line of the raw_events COPY, columns in RAW_COLUMNS order (raw-sql.ts), ending in a newline. */
export function copyLine(row: CopyRow): string {
  return (
    row.ts +
    '\t' +
    copyText(row.eventType) +
    '\t' +
    copyText(row.source) +
    '\t' +
    copyText(row.idempotencyKey) +
    '\t' +
    copyArrayLiteral(row.metricNames) +
    '\t' +
    floatArrayLiteral(row.metricValues) +
    '\t' +
    copyArrayLiteral(row.dimensionNames) +
    '\t' +
    copyArrayLiteral(row.dimensionValues) +
    '\t' +
    copyText(row.dataJson) +
    '\n'
  );
}

/** copyLine for a plain event, whose strings need no escaping; the key is escaped as usual. */
export function plainCopyLine(idempotencyKey: string, event: PlainNormalizedEvent): string {
  return (
    event.isoTimestamp +
    '\t' +
    event.eventType +
    '\t' +
    event.source +
    '\t' +
    copyText(idempotencyKey) +
    '\t' +
    plainArrayLiteral(event.metricNames) +
    '\t{' +
    event.metricTexts.join(',') +
    '}\t' +
    plainArrayLiteral(event.dimensionNames) +
    '\t' +
    plainArrayLiteral(event.dimensionValues) +
    '\t' +
    event.dataJson +
    '\n'
  );
}

const COPY_ESCAPE = /\\(.)/g;
const COPY_UNESCAPED: Record<string, string> = { n: '\n', r: '\r', t: '\t' };

/** The columns of one COPY text line (with or without its newline), unescaped: the inverse of copyLine. */
export function copyFields(line: string): string[] {
  const body = line.endsWith('\n') ? line.slice(0, -1) : line;
  return body
    .split('\t')
    .map((field) => field.replace(COPY_ESCAPE, (_, c: string) => COPY_UNESCAPED[c] ?? c));
}
