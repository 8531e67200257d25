// The original batch-processing API paths on BATCH_PROCESSING_API_PORT, each served by a function:
// /health, /aggregation/*, /runs, /aggregates/*, /openapi.json → status; /reports/* → generate-report; /capacity/* → analyze-capacity;
// /retention/* → retention-sweep (501 until that function is in stack.yml); /metrics → the runtime's
// registry plus the status function's /metrics when it has one. The path is forwarded unchanged, so a
// function answers the same paths on the gateway (/function/<name>/<path>) as here.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Gateway } from './gateway.ts';
import type { Supervisor } from './supervisor.ts';

/** Path prefix → the function that serves it and every path below it. */
export const API_ROUTES: Readonly<Record<string, string>> = {
  '/health': 'status',
  '/aggregation': 'status',
  '/runs': 'status',
  '/aggregates': 'status',
  '/openapi.json': 'status',
  '/reports': 'generate-report',
  '/capacity': 'analyze-capacity',
  '/retention': 'retention-sweep',
};

/** The function serving `path`: the route whose prefix is the path or a whole segment of it. */
export function apiRouteFor(path: string): string | undefined {
  for (const [prefix, fn] of Object.entries(API_ROUTES)) {
    if (path === prefix || path.startsWith(`${prefix}/`)) return fn;
  }
  return undefined;
}

export interface ApiServerDeps {
  gateway: Gateway;
  supervisor: Supervisor;
  registry: Registry;
}

export function createApiServer(deps: ApiServerDeps): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://api');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const send = (status: number, body: unknown, type = 'application/json'): void => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (path === '/metrics') {
      void (async () => {
        let text = await deps.registry.metrics();
        const status = deps.supervisor.get('status');
        if (status?.state === 'ready' && status.port !== undefined) {
          try {
            const answer = await fetch(`http://127.0.0.1:${status.port}/metrics`);
            const type = answer.headers.get('content-type') ?? '';
            const body = await answer.text();
            if (answer.ok && type.startsWith('text/plain')) text += `\n${body}`;
          } catch {
            // the status function exposes no metrics (yet): the runtime's alone
          }
        }
        send(200, text, deps.registry.contentType);
      })().catch((err: unknown) =>
        send(500, { error: { code: 'INTERNAL', message: (err as Error).message } }),
      );
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
      send(501, {
        error: {
          code: 'NOT_IMPLEMENTED_YET',
          message: `${path} is served by the function "${fn}", which is not in stack.yml yet`,
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
