// Splits a push-ingestion body into raw events: one JSON object, a JSON array of events, or NDJSON (one
// event per line). A line that is not JSON becomes its own EVENT_NOT_JSON item; its neighbours are unaffected.
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
    }
  | { ok: false; index: number; line?: number; raw: string; rejection: Rejection };

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

/** Lines as [1-based number, text | undefined when not UTF-8, raw text for dead letters]. */
function splitLines(body: string | Buffer): { line: number; text: string | undefined; raw: string }[] {
  const out: { line: number; text: string | undefined; raw: string }[] = [];
  if (typeof body === 'string') {
    body.split('\n').forEach((text, i) => {
      const clean = (i === 0 ? text.replace(/^\uFEFF/, '') : text).replace(/\r$/, '');
      out.push({ line: i + 1, text: clean, raw: clean });
    });
    return out;
  }
  let start = 0;
  let line = 1;
  for (;;) {
    const end = body.indexOf(10, start);
    const slice = body.subarray(start, end === -1 ? body.length : end);
    const text = decodeText(slice)?.replace(/\r$/, '');
    out.push({ line, text: line === 1 ? text?.replace(/^\uFEFF/, '') : text, raw: slice.toString('utf8') });
    if (end === -1) break;
    start = end + 1;
    line++;
  }
  return out;
}

function lineItems(body: string | Buffer): BatchItem[] {
  const items: BatchItem[] = [];
  for (const { line, text, raw } of splitLines(body)) {
    if (text !== undefined && text.trim() === '') continue;
    const index = items.length;
    const notJson = (reason: string): BatchItem => ({
      ok: false,
      index,
      line,
      raw,
      rejection: rejection('EVENT_NOT_JSON', reason),
    });
    if (text === undefined) {
      items.push(notJson(`line ${line} is not valid UTF-8 text; send JSON encoded as UTF-8`));
      continue;
    }
    try {
      items.push({ ok: true, index, line, raw: JSON.parse(text) as unknown });
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

/**
 * Body → raw items. With an NDJSON content type (application/x-ndjson, application/jsonl, …) the body is read
 * line by line. Otherwise it is parsed as one JSON document — an array gives one item per element, anything
 * else one item — and if that fails but several lines parse on their own, it is read as NDJSON (so NDJSON sent
 * as application/json still works); a body that is neither is one EVENT_NOT_JSON item. Empty body → [].
 */
export function parseBatch(body: string | Buffer, contentType?: string): BatchItem[] {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType && NDJSON_TYPES.has(mediaType)) return lineItems(body);

  const text = typeof body === 'string' ? body.replace(/^\uFEFF/, '') : decodeText(body);
  if (text !== undefined && text.trim() === '') return [];
  if (text !== undefined) {
    try {
      const value = JSON.parse(text) as unknown;
      if (Array.isArray(value)) return value.map((raw: unknown, index) => ({ ok: true, index, raw }));
      return [{ ok: true, index: 0, raw: value }];
    } catch (error) {
      const lines = lineItems(body);
      if (lines.length > 1 && lines.some((item) => item.ok)) return lines;
      return [
        {
          ok: false,
          index: 0,
          raw: text,
          rejection: rejection(
            'EVENT_NOT_JSON',
            `request body is not valid JSON (${(error as Error).message}): ${preview(text)}; send one event ` +
              `object, a JSON array of events, or NDJSON (one event per line, Content-Type application/x-ndjson)`,
          ),
        },
      ];
    }
  }
  return lineItems(body); // not UTF-8 as a whole: keep the lines that are
}
