// Where each element of a top-level JSON array lies in its text, so a refused element can keep the bytes it
// came as rather than a re-serialisation of its value (which turns 1e400 into null, 1.0 into 1, "\u00e9"
// into "é" and drops a repeated key). The text has already passed JSON.parse: this only walks it, one pass
// without recursion (a 100,000-level element is as cheap as a flat one), jumping from quote to quote
// through strings.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** JSON's whitespace: space, tab, line feed, carriage return (RFC 8259 §2). */
export function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && isJsonSpace(text.charCodeAt(i))) i++;
  return i;
}

function trimSpaceBefore(text: string, end: number): number {
  while (end > 0 && isJsonSpace(text.charCodeAt(end - 1))) end--;
  return end;
}

/** The index just past the string whose opening quote is at `i`. */
function stringEnd(text: string, i: number): number {
  let quote = i + 1;
  for (;;) {
    quote = text.indexOf('"', quote);
    if (quote === -1) throw new TypeError(`arrayElementSpans: a string opened at ${i} is not closed`);
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    quote++;
  }
}

/**
 * The elements of the JSON array `text` as [start, end) pairs of UTF-16 indexes, flattened: element i is
 * `text.slice(spans[2i], spans[2i + 1])`, from its first character to its last (the whitespace around it is
 * the array's). `text` must be a JSON array that JSON.parse accepts, whitespace around it allowed; anything
 * else throws a TypeError or gives spans that mean nothing.
 */
export function arrayElementSpans(text: string): number[] {
  const spans: number[] = [];
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== OPEN_BRACKET) {
    throw new TypeError(`arrayElementSpans: the text does not start with "[" (at ${i})`);
  }
  i = skipSpace(text, i + 1);
  if (text.charCodeAt(i) === CLOSE_BRACKET) return spans;
  let start = i;
  let depth = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i);
      continue;
    }
    if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      depth++;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      if (depth === 0) {
        spans.push(start, trimSpaceBefore(text, i));
        return spans;
      }
      depth--;
    } else if (c === COMMA && depth === 0) {
      spans.push(start, trimSpaceBefore(text, i));
      i = skipSpace(text, i + 1);
      start = i;
      continue;
    }
    i++;
  }
  throw new TypeError('arrayElementSpans: the array is not closed');
}
