// Splits a push-ingestion body into raw events: one JSON object, a JSON array of events, or NDJSON (one
// event per line). A line that is not JSON becomes its own EVENT_NOT_JSON item; its neighbours are unaffected.
// Every item can give its own bytes as they came, for a dead letter.
import { arrayElementSpans, isJsonSpace } from './array-elements.ts';
import { jsonErrorPlace } from './json-error-place.ts';
import { preview, rejection, type Rejection } from './rejection.ts';

export type BatchItem =
  | {
      ok: true;
      /** 0-based position in the batch (blank NDJSON lines take none). */
      index: number;
      /** 1-based line for NDJSON input. */
      line?: number;
      /** The parsed value, ready for normalizeEvent. */
      raw: unknown;
      /**
       * The value's own JSON text as received, from its first character to its last: an array element
       * without the array's commas and whitespace, a line without its line break. Worked out when asked
       * for (a refused event), so a body whose events are all stored pays nothing for it.
       */
      bytes: () => Buffer;
    }
  | {
      ok: false;
      index: number;
      line?: number;
      /** The text that is not JSON (a line, or the whole body), decoded for display. */
      raw: string;
      /** That text's bytes as received: a line without its line break, the body without its BOM. */
      bytes: () => Buffer;
      rejection: Rejection;
    };

const NDJSON_TYPES = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonl',
  'application/jsonlines',
  'application/x-jsonlines',
  'application/json-lines',
]);

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeText(bytes: Buffer): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * One line of the body: its 1-based number, its text (undefined when it is not UTF-8) and its bytes as
 * received (a string body's as UTF-8), both without the line break (LF or CRLF) and, on the first line, a BOM.
 */
interface Line {
  line: number;
  text: string | undefined;
  own: string | Buffer;
}

function splitLines(body: string | Buffer): Line[] {
  const out: Line[] = [];
  if (typeof body === 'string') {
    body.split('\n').forEach((text, i) => {
      const clean = (i === 0 ? text.replace(/^\uFEFF/, '') : text).replace(/\r$/, '');
      out.push({ line: i + 1, text: clean, own: clean });
    });
    return out;
  }
  let start = 0;
  let line = 1;
  for (;;) {
    const end = body.indexOf(10, start);
    let slice = body.subarray(start, end === -1 ? body.length : end);
    if (slice.at(-1) === 0x0d) slice = slice.subarray(0, -1);
    if (line === 1 && slice.subarray(0, 3).equals(BOM)) slice = slice.subarray(3);
    out.push({ line, text: decodeText(slice), own: slice });
    if (end === -1) break;
    start = end + 1;
    line++;
  }
  return out;
}

/** A copy of `own`, so that a dead letter does not hold the whole body; with `trim`, JSON's whitespace and a BOM cut off. */
function copyOf(own: string | Buffer, trim: boolean): Buffer {
  if (typeof own === 'string') return Buffer.from(trim ? trimJsonSpace(own) : own);
  let from = 0;
  let to = own.length;
  if (trim) {
    if (own.subarray(0, 3).equals(BOM)) from = 3; // the decoder drops a BOM at the start of any line
    while (from < to && isJsonSpace(own[from] as number)) from++;
    while (to > from && isJsonSpace(own[to - 1] as number)) to--;
  }
  return Buffer.from(own.subarray(from, to));
}

function trimJsonSpace(text: string): string {
  let from = 0;
  let to = text.length;
  while (from < to && isJsonSpace(text.charCodeAt(from))) from++;
  while (to > from && isJsonSpace(text.charCodeAt(to - 1))) to--;
  return text.slice(from, to);
}

function lineItems(body: string | Buffer): BatchItem[] {
  const items: BatchItem[] = [];
  for (const { line, text, own } of splitLines(body)) {
    if (text !== undefined && text.trim() === '') continue;
    const index = items.length;
    const notJson = (reason: string): BatchItem => ({
      ok: false,
      index,
      line,
      raw: typeof own === 'string' ? own : own.toString('utf8'),
      bytes: () => copyOf(own, false),
      rejection: rejection('EVENT_NOT_JSON', reason),
    });
    if (text === undefined) {
      items.push(notJson(`line ${line} is not valid UTF-8 text; send JSON encoded as UTF-8`));
      continue;
    }
    try {
      const raw = JSON.parse(text) as unknown;
      items.push({ ok: true, index, line, raw, bytes: () => copyOf(own, true) });
    } catch (error) {
      items.push(
        notJson(
          `line ${line} is not valid JSON (${(error as Error).message}): ${preview(text)}; expected one JSON ` +
            `object per line (NDJSON)`,
        ),
      );
    }
  }
  return items;
}

/** The items of a JSON array body; the elements' places in `text` are found when the first one's bytes are asked for. */
function arrayItems(text: string, values: unknown[]): BatchItem[] {
  let spans: number[] | undefined;
  const elementText = (index: number): string => {
    if (spans === undefined) {
      spans = arrayElementSpans(text);
      if (spans.length !== 2 * values.length) {
        throw new Error(
          `parseBatch: found ${spans.length / 2} elements in a JSON array of ${values.length}; arrayElementSpans is wrong`,
        );
      }
    }
    return text.slice(spans[2 * index], spans[2 * index + 1]);
  };
  return values.map((raw: unknown, index): BatchItem => ({
    ok: true,
    index,
    raw,
    bytes: () => Buffer.from(elementText(index)),
  }));
}

/**
 * Body → raw items. With an NDJSON content type (application/x-ndjson, application/jsonl, …) the body is read
 * line by line. Otherwise it is parsed as one JSON document — an array gives one item per element, anything
 * else one item — and if that fails but several lines parse on their own, it is read as NDJSON (so NDJSON sent
 * as application/json still works); a body that is neither is one EVENT_NOT_JSON item. A body that starts
 * with `[` is an array, never NDJSON: when it does not parse, it is one EVENT_NOT_JSON item with the parser's
 * message and place — split into lines, a pretty-printed array with one comma missing was stored in part,
 * its brackets refused as junk. Empty body → [].
 */
export function parseBatch(body: string | Buffer, contentType?: string): BatchItem[] {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType && NDJSON_TYPES.has(mediaType)) return lineItems(body);

  const text = typeof body === 'string' ? body.replace(/^\uFEFF/, '') : decodeText(body);
  if (text !== undefined && text.trim() === '') return [];
  const array = startsArray(body);
  if (text !== undefined) {
    try {
      const value = JSON.parse(text) as unknown;
      if (Array.isArray(value)) return arrayItems(text, value);
      return [{ ok: true, index: 0, raw: value, bytes: () => Buffer.from(trimJsonSpace(text)) }];
    } catch (error) {
      if (array) {
        return [
          wholeBody(
            text,
            `request body is a JSON array but not valid JSON (${jsonErrorPlace(text, error)}); nothing of it ` +
              `was stored — fix the array (a comma between elements, none after the last) and send it again`,
          ),
        ];
      }
      const lines = lineItems(body);
      if (lines.length > 1 && lines.some((item) => item.ok)) return lines;
      return [
        wholeBody(
          text,
          `request body is not valid JSON (${jsonErrorPlace(text, error)}): ${preview(text)}; send one event ` +
            `object, a JSON array of events, or NDJSON (one event per line, Content-Type application/x-ndjson)`,
        ),
      ];
    }
  }
  if (array && typeof body !== 'string') {
    const own = body.subarray(0, 3).equals(BOM) ? body.subarray(3) : body;
    return [
      wholeBody(
        own.toString('utf8'),
        'request body is a JSON array but not valid UTF-8 text; nothing of it was stored — send it encoded as UTF-8',
        own,
      ),
    ];
  }
  return lineItems(body); // not UTF-8 as a whole: keep the lines that are
}

/** Whether the body's first character after a BOM and whitespace is `[`: then it can only be a JSON array. */
function startsArray(body: string | Buffer): boolean {
  let i =
    typeof body === 'string' ? (body.startsWith('\uFEFF') ? 1 : 0) : body.subarray(0, 3).equals(BOM) ? 3 : 0;
  const at = (k: number) => (typeof body === 'string' ? body.charCodeAt(k) : (body[k] as number));
  while (i < body.length && isJsonSpace(at(i))) i++;
  return i < body.length && at(i) === 0x5b;
}

/** The whole body as one refused item: its text shown, its bytes as received (without a BOM) kept. */
function wholeBody(text: string, reason: string, own?: Buffer): BatchItem {
  return {
    ok: false,
    index: 0,
    raw: text,
    bytes: () => (own === undefined ? Buffer.from(text) : Buffer.from(own)),
    rejection: rejection('EVENT_NOT_JSON', reason),
  };
}
