// Reads a request into the handler's `event`: the body up to a byte limit, then JSON or text.
import type { IncomingMessage } from 'node:http';
import { BatchError } from '../../shared/errors/index.ts';
import type { FunctionEvent } from './types.ts';

export function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const type = value.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || type.endsWith('+json');
}

/** Collects the body; rejects with FUNCTION_BODY_TOO_LARGE (413) once it passes `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(bodyTooLarge(limit, declared));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.resume();
        reject(bodyTooLarge(limit, size));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

/** REQUEST_TOO_LARGE (413) for a body of `size` bytes over `limit`; the local runtime's gateway sends it too. */
export function bodyTooLarge(limit: number, size: number): BatchError {
  return new BatchError(
    'REQUEST_TOO_LARGE',
    `request body of ${size}${size > limit ? '+' : ''} bytes exceeds the limit of ${limit} bytes (MAX_REQUEST_BODY); send smaller batches`,
    { context: { limit, size } },
  );
}

export function buildEvent(req: IncomingMessage, rawBody: Buffer): FunctionEvent {
  const url = new URL(req.url ?? '/', 'http://function.local');
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = value;
  const text = rawBody.toString('utf8');
  let body: unknown = text;
  if (isJsonContentType(req.headers['content-type']) && text.trim() !== '') {
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new BatchError(
        'REQUEST_INVALID',
        `request body is not valid JSON (${(err as Error).message}); send valid JSON or another content-type`,
        { context: { contentType: req.headers['content-type'] } },
      );
    }
  }
  return { body, rawBody, headers: req.headers, method: req.method ?? 'GET', query, path: url.pathname };
}
