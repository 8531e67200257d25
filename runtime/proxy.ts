// Forwards one gateway request to a function process: method, path suffix, query, headers, body and
// status are preserved; hop-by-hop headers are dropped, as the OpenFaaS gateway does.
import { request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';

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
  port: number;
  /** Path and query to send upstream, e.g. `/runs?limit=5`. */
  path: string;
  extraHeaders?: Record<string, string>;
  /** Response headers added on the way back (X-Call-Id, X-Duration-Seconds). */
  responseHeaders?: () => Record<string, string>;
}

/** Pipes `req` to the function and its answer to `res`; resolves with the status sent. */
export function proxyRequest(
  req: IncomingMessage,
  res: ServerResponse,
  target: ProxyTarget,
): Promise<number> {
  return new Promise((resolve) => {
    const upstream = request(
      {
        host: '127.0.0.1',
        port: target.port,
        method: req.method,
        path: target.path,
        headers: { ...forwardHeaders(req.headers), ...target.extraHeaders },
      },
      (answer: IncomingMessage) => {
        const status = answer.statusCode ?? 502;
        res.writeHead(status, { ...forwardHeaders(answer.headers), ...target.responseHeaders?.() });
        answer.pipe(res);
        answer.once('end', () => resolve(status));
        answer.once('error', () => resolve(status));
      },
    );
    upstream.once('error', (err) => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'FUNCTION_UNREACHABLE', message: err.message } }));
      } else {
        res.destroy(err);
      }
      resolve(502);
    });
    req.pipe(upstream);
  });
}

export interface BufferedAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Calls a function with a buffered body (async invocations, cron, the Kafka bridge inside the runtime). */
export function callFunction(
  port: number,
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
): Promise<BufferedAnswer> {
  return new Promise((resolve, reject) => {
    const upstream = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: { ...forwardHeaders(headers), 'content-length': String(body.length) },
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.once('end', () =>
          resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }),
        );
        answer.once('error', reject);
      },
    );
    upstream.once('error', reject);
    upstream.end(body);
  });
}
