// Reads a request into the handler's `event`: the body up to a byte limit, then JSON or text.
import type { IncomingMessage } from 'node:http';
import { BatchError } from '../../shared/errors/index.ts';
import { badTargetMessage, requestTarget } from '../../shared/http/index.ts';
import { parseJsonText } from '../../shared/json/index.ts';
import type { FunctionEvent } from './types.ts';

export function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const type = value.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || type.endsWith('+json');
}

/**
 * How much of a too-large body is read and thrown away before the 413 goes out: answering while the sender
 * is still writing and closing the socket breaks its write — of-watchdog then answers an empty 500 instead
 * of the 413 — so the rest of the body is drained, within these bounds. Past them the 413 goes out at once
 * and the connection is closed.
 */
export interface DiscardLimits {
  /** Bytes past the limit read and dropped. */
  bytes: number;
  /** Milliseconds, from the moment the limit was passed, to wait for the body's end. */
  ms: number;
}

export const DEFAULT_DISCARD: DiscardLimits = { bytes: 64 * 1024 * 1024, ms: 10_000 };

/**
 * Collects the body; rejects with REQUEST_TOO_LARGE (413) once it passes `limit` bytes — after the rest
 * of the body was read and dropped (see DiscardLimits), so the sender can read the answer. `req.complete`
 * tells the caller whether the connection is still clean.
 */
export function readBody(req: IncomingMessage, limit: number, discard = DEFAULT_DISCARD): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    // Set once the body is known to be too large: by its Content-Length, or by the bytes read.
    let over: { declared: number | undefined; timer: NodeJS.Timeout } | undefined;
    const finish = (err?: unknown): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', finish);
      clearTimeout(over?.timer);
      if (err === undefined) resolve(Buffer.concat(chunks, size));
      else reject(err);
    };
    // Past the bounds: answer now, with what is known of the size; the caller closes the connection.
    const giveUp = (): void => {
      const declared = over?.declared;
      finish(bodyTooLarge(limit, declared ?? size, declared !== undefined));
    };
    const overLimit = (declared?: number): void => {
      chunks = [];
      over = { declared, timer: setTimeout(giveUp, discard.ms) };
      if ((declared ?? size) - limit > discard.bytes) giveUp();
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (over) {
        if (size - limit > discard.bytes) giveUp();
      } else if (size > limit) {
        overLimit();
      } else {
        chunks.push(chunk);
      }
    };
    // The whole body was read (and, past the limit, dropped): `size` is its length.
    const onEnd = (): void => finish(over ? bodyTooLarge(limit, size, true) : undefined);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', finish);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) overLimit(declared);
  });
}

/**
 * REQUEST_TOO_LARGE (413) for a body of `size` bytes over `limit`; the local runtime's gateway sends it too.
 * `whole`: `size` is the body's full length (it was read to its end), not only as far as it was read.
 */
export function bodyTooLarge(limit: number, size: number, whole = false): BatchError {
  return new BatchError(
    'REQUEST_TOO_LARGE',
    `request body of ${size}${size > limit && !whole ? '+' : ''} bytes exceeds the limit of ${limit} bytes (MAX_REQUEST_BODY); send a smaller body (to ingest: fewer events per request)`,
    { context: { limit, size } },
  );
}

/**
 * A query parameter's value, refused when it holds NUL: no parameter takes one, and PostgreSQL text cannot
 * hold it, so a `%00` that reached a query would fail there as a 500 instead of the client's 400.
 */
function queryValue(key: string, value: string): string {
  if (!value.includes('\u0000') && !key.includes('\u0000')) return value;
  const field = key.replaceAll('\u0000', '\\u0000').slice(0, 100);
  throw new BatchError(
    'REQUEST_INVALID',
    `query parameter "${field}" holds a NUL character (%00), which no parameter accepts; remove it`,
    { context: { field } },
  );
}

/**
 * The handler's event. A JSON body is parsed when `event.body` is first read, not before: ingest reads only
 * `rawBody` (each event of a batch is parsed and judged on its own, so one bad element does not refuse its
 * neighbours) and should not pay for a parse it never uses. Reading `body` throws REQUEST_INVALID (400) for
 * text that is not JSON and REQUEST_JSON_LIMIT (422) past JSON_LIMITS, which the server answers as such.
 */
export function buildEvent(req: IncomingMessage, rawBody: Buffer): FunctionEvent {
  const url = requestTarget(req.url);
  if (url === undefined) throw new BatchError('REQUEST_INVALID', badTargetMessage(req.url));
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    // No parameter takes a list by repetition: the one taken would be a guess (?limit=1&limit=2).
    if (Object.hasOwn(query, key)) {
      const field = key.slice(0, 100);
      throw new BatchError(
        'REQUEST_INVALID',
        `query parameter "${field}" is given ${url.searchParams.getAll(key).length} times; give it once`,
        { context: { field } },
      );
    }
    query[key] = queryValue(key, value);
  }
  const text = rawBody.toString('utf8');
  const json = isJsonContentType(req.headers['content-type']) && text.trim() !== '';
  let parsed: { value: unknown } | undefined;
  const event = { rawBody, headers: req.headers, method: req.method ?? 'GET', query, path: url.pathname };
  return Object.defineProperty(event, 'body', {
    enumerable: true,
    get(): unknown {
      if (!json) return text;
      parsed ??= {
        value: parseJsonText(text, 'send valid JSON or another content-type', 'request body'),
      };
      return parsed.value;
    },
  }) as FunctionEvent;
}
