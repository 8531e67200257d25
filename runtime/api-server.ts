// The original batch-processing API paths on BATCH_PROCESSING_API_PORT, each served by a function:
// / (the web dashboard), /ui/*, /health, /aggregation/*, /runs, /dead-letters/*, /aggregates/*, /openapi.json →
// status; /reports/* → generate-report; /capacity/* → analyze-capacity; /retention/* → retention-sweep (a path
// whose function the stack leaves out answers 503 FUNCTION_NOT_DEPLOYED); /metrics → metrics-text.ts (also served alone on the metrics
// port). The path is forwarded unchanged, so a function answers the same paths on the gateway
// (/function/<name>/<path>) as here.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { badTargetMessage, requestTarget } from '../shared/http/index.ts';
import type { Gateway } from './gateway.ts';
import type { Supervisor } from './supervisor.ts';

/** Path prefix → the function that serves it and every path below it. */
export const API_ROUTES: Readonly<Record<string, string>> = {
  '/ui': 'status',
  '/health': 'status',
  '/aggregation': 'status',
  '/runs': 'status',
  '/dead-letters': 'status',
  '/aggregates': 'status',
  '/openapi.json': 'status',
  '/reports': 'generate-report',
  '/capacity': 'analyze-capacity',
  '/retention': 'retention-sweep',
};

/** The web dashboard, at the root (a prefix of everything, so matched exactly). */
export const API_ROOT_FUNCTION = 'status';

/** The function serving `path`: the route whose prefix is the path or a whole segment of it. */
export function apiRouteFor(path: string): string | undefined {
  if (path === '/') return API_ROOT_FUNCTION;
  for (const [prefix, fn] of Object.entries(API_ROUTES)) {
    if (path === prefix || path.startsWith(`${prefix}/`)) return fn;
  }
  return undefined;
}

/** The Prometheus exposition the runtime answers on /metrics. */
export interface MetricsEndpoint {
  contentType: string;
  text(): Promise<string>;
}

export interface ApiServerDeps {
  gateway: Gateway;
  supervisor: Supervisor;
  metrics: MetricsEndpoint;
}

function sendJson(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** GET /metrics: the exposition, or 500 naming what failed. */
export function serveMetrics(metrics: MetricsEndpoint, res: ServerResponse): void {
  metrics
    .text()
    .then((text) => sendJson(res, 200, text, metrics.contentType))
    .catch((err: unknown) =>
      sendJson(res, 500, { error: { code: 'INTERNAL', message: (err as Error).message } }),
    );
}

/** The metrics port (metrics.port): /metrics only. */
export function createMetricsServer(metrics: MetricsEndpoint): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = requestTarget(req.url)?.pathname;
    if (path === undefined) {
      sendJson(res, 400, { error: { code: 'REQUEST_INVALID', message: badTargetMessage(req.url) } });
      return;
    }
    if (path === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
      serveMetrics(metrics, res);
      return;
    }
    sendJson(res, 404, {
      error: { code: 'NOT_FOUND', message: `no route ${path} on the metrics port; scrape GET /metrics` },
    });
  });
}

export function createApiServer(deps: ApiServerDeps): Server {
  return createServer((req, res) => {
    const send = (status: number, body: unknown): void => sendJson(res, status, body);
    const url = requestTarget(req.url);
    if (url === undefined) {
      send(400, { error: { code: 'REQUEST_INVALID', message: badTargetMessage(req.url) } });
      return;
    }
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/metrics') {
      serveMetrics(deps.metrics, res);
      return;
    }
    const fn = apiRouteFor(path);
    if (!fn) {
      send(404, {
        error: {
          code: 'NOT_FOUND',
          message: `no API route ${path}; routes: /metrics, ${Object.keys(API_ROUTES).join(', ')} (each with its sub-paths)`,
        },
      });
      return;
    }
    if (!deps.supervisor.get(fn)) {
      // A stack may leave a function out (a test stack, a trimmed deployment): say which one answers here.
      send(503, {
        error: {
          code: 'FUNCTION_NOT_DEPLOYED',
          message: `${path} is served by the function "${fn}", which this stack does not deploy; add it to stack.yml`,
          function: fn,
        },
      });
      return;
    }
    deps.gateway.forward(req, res, fn, `${path}${url.search}`).catch((err: unknown) => {
      if (!res.headersSent)
        send(502, { error: { code: 'FUNCTION_UNREACHABLE', message: (err as Error).message } });
    });
  });
}
