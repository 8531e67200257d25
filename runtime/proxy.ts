// Forwards one gateway request to a function process: method, path suffix, query, headers, body and
// status are preserved; hop-by-hop headers are dropped, as the OpenFaaS gateway does. The function's
// limits are the gateway's too: a body over MAX_REQUEST_BODY is answered 413 here, before the function
// would close its end under a body still being sent (which surfaced as 502 "write EPIPE" instead of its
// 413), and a call that outlives exec_timeout is answered 504 as of-watchdog answers it.
import { request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { BatchError } from '../shared/errors/index.ts';
import { bodyTooLarge } from '../templates/node20-ts/request.ts';
import { sendError } from './error-answer.ts';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

export function forwardHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !HOP_BY_HOP.has(k.toLowerCase())));
}

export interface ProxyTarget {
  /** The function's name, for messages. */
  fn: string;
  port: number;
  /** Path and query to send upstream, e.g. `/runs?limit=5`. */
  path: string;
  extraHeaders?: Record<string, string>;
  /** Response headers added on the way back (X-Call-Id, X-Duration-Seconds). */
  responseHeaders?: () => Record<string, string>;
  /** The function's MAX_REQUEST_BODY: a larger body is answered 413 without reaching it. */
  maxBodyBytes?: number | undefined;
  /** The function's exec_timeout: no answer by then → 504 FUNCTION_TIMEOUT. */
  timeoutMs?: number | undefined;
}

export function functionTimeout(fn: string, timeoutMs: number): BatchError {
  return new BatchError(
    'FUNCTION_TIMEOUT',
    `function ${fn} did not answer within its exec_timeout of ${timeoutMs / 1000}s (stack.yml); ` +
      'a job continues where it stopped on its next run',
    { context: { fn, timeoutMs } },
  );
}

function unreachable(fn: string, err: Error): BatchError {
  return new BatchError(
    'FUNCTION_UNREACHABLE',
    `function ${fn} could not be reached (${err.message}); it is restarted if it crashed`,
    { context: { fn }, cause: err },
  );
}

/**
 * What the gateway records when the caller went away before the function answered (nginx's 499). The call
 * to the function is cut at once: left open, an unsent request sat on an idle connection until the
 * function's server gave up on its headers and answered 408 — which is what health pollers with a short
 * timeout saw in the gateway's metrics while a function was starting.
 */
export const CLIENT_CLOSED = 499;

/** true when the request declares a body larger than `limit` (Content-Length). */
export function declaresTooLarge(req: IncomingMessage, limit: number | undefined): boolean {
  const declared = Number(req.headers['content-length']);
  return limit !== undefined && Number.isFinite(declared) && declared > limit;
}

/** Pipes `req` to the function and its answer to `res`; resolves with the status sent. */
export function proxyRequest(
  req: IncomingMessage,
  res: ServerResponse,
  target: ProxyTarget,
): Promise<number> {
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (status: number): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(status);
    };
    if (req.destroyed || res.destroyed) {
      // The caller gave up while the function was starting: nothing to forward, nobody to answer.
      settle(CLIENT_CLOSED);
      return;
    }
    // The gateway answers instead of the function: stop sending to it, let the client finish sending
    // (its body is read and dropped, so it gets to read this answer), and close the connection after it.
    const answerInstead = (err: BatchError): void => {
      if (settled) return;
      upstream.destroy();
      req.unpipe();
      req.resume();
      settle(sendError(res, err, { ...target.responseHeaders?.(), connection: 'close' }));
    };

    const upstream = request(
      {
        host: '127.0.0.1',
        port: target.port,
        method: req.method,
        path: target.path,
        headers: { ...forwardHeaders(req.headers), ...target.extraHeaders },
      },
      (answer: IncomingMessage) => {
        if (settled) {
          answer.resume();
          return;
        }
        const status = answer.statusCode ?? 502;
        res.writeHead(status, { ...forwardHeaders(answer.headers), ...target.responseHeaders?.() });
        answer.pipe(res);
        answer.once('end', () => settle(status));
        answer.on('error', () => settle(status));
      },
    );
    upstream.on('error', (err) => answerInstead(unreachable(target.fn, err)));
    res.once('close', () => {
      if (settled) return;
      upstream.destroy();
      settle(CLIENT_CLOSED);
    });
    if (target.timeoutMs !== undefined) {
      const ms = target.timeoutMs;
      timer = setTimeout(() => {
        if (res.headersSent) {
          // Answer under way when the time ran out: cut it, as the watchdog's context cancel does.
          upstream.destroy();
          res.destroy();
          settle(504);
        } else answerInstead(functionTimeout(target.fn, ms));
      }, ms);
    }
    let size = 0;
    const limit = target.maxBodyBytes;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (limit !== undefined && size > limit && !settled) answerInstead(bodyTooLarge(limit, size));
    });
    req.pipe(upstream);
  });
}

export interface BufferedAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Calls a function with a buffered body (async invocations); rejects with FUNCTION_TIMEOUT after
 * `timeoutMs` and with the network error when the function cannot be reached.
 */
export function callFunction(
  port: number,
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
  limits: { fn: string; timeoutMs?: number | undefined } = { fn: 'function' },
): Promise<BufferedAnswer> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error): void =>
      reject(
        err.name === 'AbortError' && limits.timeoutMs !== undefined
          ? functionTimeout(limits.fn, limits.timeoutMs)
          : unreachable(limits.fn, err),
      );
    const upstream = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: { ...forwardHeaders(headers), 'content-length': String(body.length) },
        ...(limits.timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(limits.timeoutMs) }),
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.once('end', () =>
          resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }),
        );
        answer.once('error', fail);
      },
    );
    upstream.once('error', fail);
    upstream.end(body);
  });
}
