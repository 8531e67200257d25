// The gateway's HTTP routes: /function/<name>[.<ns>][/path], /async-function/<name>, /system/*, /healthz.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { badTargetMessage, requestTarget } from '../shared/http/index.ts';
import type { RuntimeMetrics } from './metrics.ts';
import { functionStatus, systemInfo } from './api-compat.ts';
import type { AsyncQueue } from './async-queue.ts';
import { authorized, type BasicCredentials } from './auth.ts';
import { bodyTooLarge } from '../templates/node20-ts/request.ts';
import { sendError } from './error-answer.ts';
import { declaresTooLarge, proxyRequest } from './proxy.ts';
import { invocationLimits, NAMESPACE } from './stack.ts';
import type { RuntimeLog, Supervisor } from './supervisor.ts';

export interface GatewayDeps {
  supervisor: Supervisor;
  asyncQueue: AsyncQueue;
  metrics: RuntimeMetrics;
  log: RuntimeLog;
  auth: BasicCredentials | undefined;
}

export interface FunctionRoute {
  kind: 'function' | 'async-function';
  name: string;
  namespace: string;
  /** Path suffix + query forwarded to the function, always starting with `/`. */
  path: string;
}

/** A percent-decoded name; malformed escapes (`%zz`) stay as sent, so they name no function instead of throwing. */
function decodeName(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Parses `/function/<name>[.<namespace>][/rest][?query]`. */
export function parseFunctionRoute(url: string): FunctionRoute | undefined {
  const m = /^\/(function|async-function)\/([^/?#]+)([^?#]*)(\?[^#]*)?/.exec(url);
  if (!m) return undefined;
  const [, kind, id, rest, query] = m;
  const dot = id!.indexOf('.');
  const name = dot < 0 ? id! : id!.slice(0, dot);
  const namespace = dot < 0 ? NAMESPACE : id!.slice(dot + 1);
  return {
    kind: kind as FunctionRoute['kind'],
    name: decodeName(name!),
    namespace,
    path: `${rest || '/'}${query ?? ''}`,
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** The whole body, or undefined once it passes `limit` bytes (the rest is read and dropped). */
function readAll(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.once('end', () => resolve(size <= limit ? Buffer.concat(chunks) : undefined));
    req.once('error', reject);
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export interface Gateway {
  server: Server;
  invocationCount(fn: string): number;
  /** Proxies a request to function `name` with `path` (suffix + query), as /function/<name><path> does. */
  forward(req: IncomingMessage, res: ServerResponse, name: string, path: string): Promise<void>;
}

export function createGatewayServer(deps: GatewayDeps): Gateway {
  const counts = new Map<string, number>();
  const bump = (fn: string): void => void counts.set(fn, (counts.get(fn) ?? 0) + 1);

  const statusOf = (name: string) => {
    const proc = deps.supervisor.get(name);
    return proc ? functionStatus(proc, counts.get(name) ?? 0) : undefined;
  };

  async function invoke(req: IncomingMessage, res: ServerResponse, route: FunctionRoute): Promise<void> {
    const proc = deps.supervisor.get(route.name);
    if (!proc || route.namespace !== NAMESPACE) {
      text(res, 404, `error finding function ${route.name}.${route.namespace}: not found in stack.yml\n`);
      return;
    }
    const callId = header(req, 'x-call-id') ?? randomUUID();
    const limits = invocationLimits(proc.spec);
    // A body over the function's MAX_REQUEST_BODY is refused here, by its Content-Length when it has one.
    if (declaresTooLarge(req, limits.maxBodyBytes)) {
      req.resume();
      const status = sendError(
        res,
        bodyTooLarge(limits.maxBodyBytes, Number(req.headers['content-length'])),
        { 'X-Call-Id': callId, connection: 'close' },
      );
      deps.metrics.invocations.inc({ function_name: route.name, code: String(status) });
      return;
    }
    if (route.kind === 'async-function') {
      const body = await readAll(req, limits.maxBodyBytes);
      if (body === undefined) {
        sendError(res, bodyTooLarge(limits.maxBodyBytes, limits.maxBodyBytes + 1), { 'X-Call-Id': callId });
        return;
      }
      bump(route.name);
      deps.asyncQueue.enqueue({
        callId,
        fn: route.name,
        method: req.method ?? 'POST',
        path: route.path,
        headers: { ...req.headers, 'x-call-id': callId },
        body,
        callbackUrl: header(req, 'x-callback-url'),
      });
      res.writeHead(202, { 'X-Call-Id': callId, 'content-length': '0' });
      res.end();
      return;
    }
    let port: number;
    try {
      port = await proc.ready(30_000);
    } catch (err) {
      text(res, 503, `${(err as Error).message}\n`);
      return;
    }
    bump(route.name);
    const started = process.hrtime.bigint();
    const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
    const status = await proxyRequest(req, res, {
      fn: route.name,
      port,
      path: route.path,
      maxBodyBytes: limits.maxBodyBytes,
      timeoutMs: limits.execTimeoutMs,
      extraHeaders: {
        'X-Call-Id': callId,
        'X-Start-Time': String(Date.now() * 1e6),
        'X-Forwarded-Host': header(req, 'host') ?? '',
      },
      responseHeaders: () => ({ 'X-Call-Id': callId, 'X-Duration-Seconds': seconds().toFixed(6) }),
    });
    deps.metrics.invocations.inc({ function_name: route.name, code: String(status) });
    deps.metrics.duration.observe({ function_name: route.name }, seconds());
  }

  function system(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (!authorized(header(req, 'authorization'), deps.auth)) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="Restricted"', 'content-type': 'text/plain' });
      res.end('Unauthorized\n');
      return;
    }
    const ns = url.searchParams.get('namespace');
    if (ns && ns !== NAMESPACE) {
      text(res, 404, `namespace ${ns} not found; this runtime serves only ${NAMESPACE}\n`);
      return;
    }
    const path = url.pathname;
    if (path === '/system/functions' && req.method === 'GET') {
      json(
        res,
        200,
        deps.supervisor.all().map((p) => statusOf(p.spec.name)),
      );
    } else if (path === '/system/namespaces' && req.method === 'GET') {
      json(res, 200, [NAMESPACE]);
    } else if (path === '/system/info' && req.method === 'GET') {
      json(res, 200, systemInfo());
    } else if (path.startsWith('/system/function/') && req.method === 'GET') {
      const found = statusOf(decodeName(path.slice('/system/function/'.length)));
      if (found) json(res, 200, found);
      else text(res, 404, `function ${path.slice('/system/function/'.length)} not found\n`);
    } else if (path === '/system/functions') {
      text(res, 405, 'the local runtime deploys from stack.yml; restart `npm start` to change functions\n');
    } else {
      text(res, 404, `no route ${req.method} ${path}\n`);
    }
  }

  const server = createServer((req, res) => {
    const raw = req.url ?? '/';
    const route = parseFunctionRoute(raw);
    const done = (err: unknown): void => {
      deps.log.error({ err, url: raw }, 'gateway request failed');
      sendError(res, err);
    };
    if (route) {
      invoke(req, res, route).catch(done);
      return;
    }
    const url = requestTarget(raw);
    if (url === undefined)
      json(res, 400, { error: { code: 'REQUEST_INVALID', message: badTargetMessage(raw) } });
    else if (url.pathname === '/healthz') text(res, 200, 'OK');
    else if (url.pathname.startsWith('/system/')) {
      try {
        system(req, res, url);
      } catch (err) {
        done(err);
      }
    } else
      text(res, 404, `no route ${req.method} ${url.pathname}; try /function/<name> or /system/functions\n`);
  });
  return {
    server,
    invocationCount: (fn) => counts.get(fn) ?? 0,
    forward: (req, res, name, path) =>
      invoke(req, res, { kind: 'function', name, namespace: NAMESPACE, path }),
  };
}
