// The text of an ordinary event, read in one pass without building a parse tree. Pull ingestion reads
// millions of records whose JSON a producer wrote with JSON.stringify: compact, flat data, plain strings.
// For those, everything the store writes can be cut straight out of the text: the data column is the
// data object's own bytes and each metric value its own number literal. So this accepts only text whose
// pieces are exactly what JSON.parse followed by JSON.stringify / String(number) would give back:
// - no whitespace between tokens, no escapes or control characters in strings, valid UTF-8;
// - data holds only strings, numbers, booleans and null (nothing nested), no repeated key, no key
//   starting with a digit (V8 lists integer-like keys first) and no "__proto__";
// - number literals in the form String() writes: no exponent, no "-0", no trailing fraction zeros, at
//   most 15 significant digits (so the literal is the shortest that round-trips) and, but for 0, no
//   magnitude below 1e-6 (where String() switches to an exponent).
// Anything else returns undefined and takes the general path (parse + EventEnvelopeSchema), which also
// writes the messages of refused events. test/unit/plain-event.test.ts holds the two to the same
// answers.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
/** What Buffer#toString('utf8') puts where the bytes are not UTF-8 (the general path refuses those). */
const REPLACEMENT = 0xfffd;
/** Most significant digits for which the literal is what String(Number(literal)) writes. */
const MAX_DIGITS = 15;
/** Below 1e-6, String() writes an exponent: 0.000001 stays, 1e-7 does not. */
const MAX_FRACTION_LEADING_ZEROS = 5;
/** A data object with more keys than this goes the general way (the repeat check is quadratic). */
const MAX_PLAIN_FIELDS = 64;

export interface PlainEventText {
  eventType: string;
  /** The timestamp field: an ISO-8601 string as written, or epoch milliseconds; undefined when absent. */
  timestamp: string | number | undefined;
  /** undefined when absent. */
  source: string | undefined;
  id: string | undefined;
  /** The data object's text, equal to JSON.stringify(JSON.parse(text).data). */
  dataJson: string;
  /** Top-level keys of data. */
  fieldCount: number;
  /** Numeric and boolean fields of data, sorted by name; values as String() writes them, booleans 1/0. */
  metricNames: string[];
  metricTexts: string[];
  /** String fields of data named in dimensionKeys, sorted by name. */
  dimensionNames: string[];
  dimensionValues: string[];
}

const isDigit = (c: number): boolean => c >= ZERO && c <= NINE;

/** Index after the closing quote of a plain string whose opening quote is at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH || c < 0x20 || c === REPLACEMENT) return -1;
  }
  return -1;
}

/** Index after a number literal of the accepted form (see the top) starting at `start`, or -1. */
function numberEnd(text: string, start: number): number {
  let i = start;
  const negative = text.charCodeAt(i) === MINUS;
  if (negative) i++;
  const first = text.charCodeAt(i);
  if (first === ZERO) i++;
  else if (first > ZERO && first <= NINE) while (isDigit(text.charCodeAt(++i)));
  else return -1;
  let digits = first === ZERO ? 0 : i - start - (negative ? 1 : 0);
  if (text.charCodeAt(i) === DOT) {
    const fraction = ++i;
    while (isDigit(text.charCodeAt(i))) i++;
    if (i === fraction || text.charCodeAt(i - 1) === ZERO) return -1;
    if (first === ZERO) {
      let nonZero = fraction;
      while (text.charCodeAt(nonZero) === ZERO) nonZero++;
      if (nonZero - fraction > MAX_FRACTION_LEADING_ZEROS) return -1;
      digits = i - nonZero;
    } else {
      digits += i - fraction;
    }
  } else if (first === ZERO && negative) {
    return -1;
  }
  const next = text.charCodeAt(i);
  if (next === 0x65 || next === 0x45 || digits > MAX_DIGITS) return -1;
  return i;
}

/** Index after `word` if the text holds it at `start`, else -1. */
function wordEnd(text: string, start: number, word: string): number {
  return text.startsWith(word, start) ? start + word.length : -1;
}

/** Names and values side by side, as the row stores them (no object per field). */
interface Fields {
  names: string[];
  values: string[];
}

/**
 * Sorts fields by name (UTF-16 code units, as Array#sort with `<` does) in place. An event has a handful of
 * data fields: insertion sort allocates nothing, where Array#sort allocated ~850 bytes per event, an
 * eighth of all the bytes the pull path allocated on the benchmark (7 KB per event).
 */
function sortByName({ names, values }: Fields): void {
  for (let i = 1; i < names.length; i++) {
    const name = names[i] as string;
    const value = values[i] as string;
    let j = i;
    while (j > 0 && (names[j - 1] as string) > name) {
      names[j] = names[j - 1] as string;
      values[j] = values[j - 1] as string;
      j--;
    }
    names[j] = name;
    values[j] = value;
  }
}

/** Reads the data object starting at `start`; the index after it, or -1. Fills the lists passed in. */
function scanData(
  text: string,
  start: number,
  dimensionKeys: ReadonlySet<string>,
  names: string[],
  metrics: Fields,
  dimensions: Fields,
): number {
  if (text.charCodeAt(start) !== LBRACE) return -1;
  let i = start + 1;
  if (text.charCodeAt(i) === RBRACE) return i + 1;
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE || isDigit(text.charCodeAt(i + 1))) return -1;
    const keyEnd = stringEnd(text, i);
    if (keyEnd < 0 || text.charCodeAt(keyEnd) !== COLON) return -1;
    const name = text.slice(i + 1, keyEnd - 1);
    if (name === '__proto__' || names.length === MAX_PLAIN_FIELDS || names.includes(name)) return -1;
    names.push(name);
    i = keyEnd + 1;
    const c = text.charCodeAt(i);
    let end: number;
    if (c === QUOTE) {
      end = stringEnd(text, i);
      if (end > 0 && dimensionKeys.has(name)) {
        dimensions.names.push(name);
        dimensions.values.push(text.slice(i + 1, end - 1));
      }
    } else if (c === 0x74) {
      end = wordEnd(text, i, 'true');
      metrics.names.push(name);
      metrics.values.push('1');
    } else if (c === 0x66) {
      end = wordEnd(text, i, 'false');
      metrics.names.push(name);
      metrics.values.push('0');
    } else if (c === 0x6e) {
      end = wordEnd(text, i, 'null');
    } else {
      end = numberEnd(text, i);
      if (end > 0) {
        metrics.names.push(name);
        metrics.values.push(text.slice(i, end));
      }
    }
    if (end < 0) return -1;
    i = end;
    const after = text.charCodeAt(i);
    if (after === RBRACE) return i + 1;
    if (after !== COMMA) return -1;
    i++;
  }
}

/**
 * The pieces of `text` when it is one event object of the plain form described at the top; undefined
 * otherwise. Checks only the form, not the contract's limits (lengths, timestamp validity, ages).
 */
export function scanPlainEvent(text: string, dimensionKeys: ReadonlySet<string>): PlainEventText | undefined {
  if (text.charCodeAt(0) !== LBRACE) return undefined;
  let eventType: string | undefined;
  let timestamp: string | number | undefined;
  let source: string | undefined;
  let id: string | undefined;
  let dataJson: string | undefined;
  const names: string[] = [];
  const metrics: Fields = { names: [], values: [] };
  const dimensions: Fields = { names: [], values: [] };
  let i = 1;
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) return undefined;
    const keyEnd = stringEnd(text, i);
    if (keyEnd < 0 || text.charCodeAt(keyEnd) !== COLON) return undefined;
    const key = text.slice(i + 1, keyEnd - 1);
    const at = keyEnd + 1;
    let end = -1;
    if (key === 'data') {
      if (dataJson !== undefined) return undefined;
      end = scanData(text, at, dimensionKeys, names, metrics, dimensions);
      if (end > 0) dataJson = text.slice(at, end);
    } else if (text.charCodeAt(at) === QUOTE) {
      end = stringEnd(text, at);
      if (end < 0) return undefined;
      const value = text.slice(at + 1, end - 1);
      if (key === 'event_type' && eventType === undefined) eventType = value;
      else if (key === 'timestamp' && timestamp === undefined) timestamp = value;
      else if (key === 'source' && source === undefined) source = value;
      else if (key === 'id' && id === undefined) id = value;
      else return undefined;
    } else if (key === 'timestamp' && timestamp === undefined) {
      end = numberEnd(text, at);
      if (end > 0) timestamp = Number(text.slice(at, end));
    }
    if (end < 0) return undefined;
    i = end;
    const after = text.charCodeAt(i);
    if (after === RBRACE && i + 1 === text.length) break;
    if (after !== COMMA) return undefined;
    i++;
  }
  if (eventType === undefined || dataJson === undefined) return undefined;
  sortByName(metrics);
  sortByName(dimensions);
  return {
    eventType,
    timestamp,
    source,
    id,
    dataJson,
    fieldCount: names.length,
    metricNames: metrics.names,
    metricTexts: metrics.values,
    dimensionNames: dimensions.names,
    dimensionValues: dimensions.values,
  };
}
