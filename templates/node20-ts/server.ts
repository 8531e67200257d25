// The HTTP server of the node20-ts template: one handler, JSON errors, a body limit, request ids in every
// log line, and a graceful drain on shutdown. All HTTP work happens here; handlers stay thin.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../../shared/log/index.ts';
import { metricsRecorded, type FunctionMetrics } from '../../shared/metrics/index.ts';
import { RequestContext } from './context.ts';
import { answerForError } from './errors.ts';
import { buildEvent, readBody } from './request.ts';
import type { Handler } from './types.ts';

export interface FunctionServerOptions {
  handler: Handler;
  logger: Logger;
  /** Bytes; a larger body answers 413. */
  maxBodyBytes: number;
  /** Where each invocation is counted and timed; its registry is served on GET /_/metrics as JSON. */
  metrics?: FunctionMetrics;
}

/**
 * The process registry as prom-client's JSON (getMetricsAsJSON), for the local runtime, which labels it with
 * the function's job and instance and serves it on its /metrics. Not the handler's: no log line, not counted.
 */
export const METRICS_JSON_PATH = '/_/metrics';

export interface FunctionServer {
  server: Server;
  /** Requests being handled right now. */
  inFlight(): number;
  /** Stops accepting connections, waits for in-flight requests (at most `timeoutMs`), closes sockets. */
  drain(timeoutMs: number): Promise<{ drained: boolean; abandoned: number }>;
}

// X-Kafka-request-id first: an hxp.batch.events message's chain id as the Kafka connector forwards its
// header (shared/jobs/events.ts). It wins over the X-Call-Id the gateway gives every call, so the next
// function's log lines carry the request id of the chain's start.
function requestIdOf(req: IncomingMessage): string {
  for (const name of ['x-kafka-request-id', 'x-call-id', 'x-request-id']) {
    const value = req.headers[name];
    const first = Array.isArray(value) ? value[0] : value;
    if (first && first.length <= 200) return first;
  }
  return randomUUID();
}

function serialize(value: unknown, headers: Record<string, string>): Buffer {
  if (value === undefined || value === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
    headers['content-type'] ??= 'application/octet-stream';
    return Buffer.from(value);
  }
  if (typeof value === 'string') {
    headers['content-type'] ??= 'text/plain; charset=utf-8';
    return Buffer.from(value, 'utf8');
  }
  headers['content-type'] ??= 'application/json';
  return Buffer.from(JSON.stringify(value), 'utf8');
}

export function createFunctionServer(options: FunctionServerOptions): FunctionServer {
  const { handler, logger, maxBodyBytes, metrics } = options;
  let active = 0;
  let draining = false;
  let onIdle: (() => void) | undefined;

  function send(res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer): void {
    if (res.headersSent || res.destroyed) return;
    if (draining) headers['connection'] = 'close';
    headers['content-length'] = String(body.length);
    res.writeHead(status, headers);
    res.end(body);
  }

  /**
   * A Readable answer (a CSV export, a download) is sent as it is produced, chunked. Once its headers are
   * out an error can only cut the response short: the client sees an incomplete body, never a wrong one.
   */
  async function stream(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    headers: Record<string, string>,
    body: Readable,
    log: Logger,
  ): Promise<void> {
    headers['content-type'] ??= 'application/octet-stream';
    if (draining) headers['connection'] = 'close';
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      body.destroy();
      res.end();
      return;
    }
    try {
      await pipeline(body, res);
    } catch (err) {
      if (!res.destroyed) res.destroy(err as Error);
      log.error({ err, status }, 'streamed answer failed part way');
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = requestIdOf(req);
    const log = logger.child({ reqId: requestId });
    const started = process.hrtime.bigint();
    const context = new RequestContext(log, requestId);
    let status: number;
    try {
      const rawBody = await readBody(req, maxBodyBytes);
      const event = buildEvent(req, rawBody);
      const returned = await handler(event, context);
      if (context.outcome.kind === 'none') context.succeed(returned);
      if (context.outcome.kind === 'error') throw context.outcome.error;
      const headers: Record<string, string> = { ...context.headers(), 'x-request-id': requestId };
      const value = context.outcome.kind === 'value' ? context.outcome.value : undefined;
      status = context.status();
      if (value instanceof Readable) await stream(req, res, status, headers, value, log);
      else send(res, status, headers, serialize(value, headers));
    } catch (err) {
      const answer = answerForError(err);
      status = answer.status;
      // The request's headers help find who sent a bad request; the logger censors Authorization, Cookie
      // and every other secret-named header (shared/log/redact.ts).
      log[answer.level]({ err, status, headers: req.headers }, 'function error');
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-request-id': requestId,
      };
      // A 413 whose body was not read to its end (past readBody's bounds) leaves bytes on the connection.
      if (status === 413 && !req.complete) headers['connection'] = 'close';
      send(res, status, headers, Buffer.from(JSON.stringify(answer.body)));
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    log.info(
      { method: req.method, path: req.url, status, ms: Math.round(ms * 10) / 10 },
      'request completed',
    );
    if (metrics) {
      metrics.invocations.inc({ code: String(status) });
      metrics.duration.observe(ms / 1000);
      metricsRecorded(metrics.registry);
    }
  }

  async function serveMetrics(res: ServerResponse): Promise<void> {
    const body = Buffer.from(JSON.stringify((await metrics?.registry.getMetricsAsJSON()) ?? []), 'utf8');
    send(res, 200, { 'content-type': 'application/json' }, body);
  }

  const server = createServer((req, res) => {
    active += 1;
    res.once('close', () => {
      active -= 1;
      if (draining) {
        server.closeIdleConnections();
        if (active === 0) onIdle?.();
      }
    });
    if (req.method === 'GET' && req.url === METRICS_JSON_PATH) {
      serveMetrics(res).catch((err: unknown) => {
        logger.error({ err }, 'could not read the metrics registry');
        send(res, 500, { 'content-type': 'application/json' }, Buffer.from('[]'));
      });
      return;
    }
    void handle(req, res);
  });
  // Let the watchdog's timeouts decide; node's own 5-minute request timeout must not cut long jobs short.
  server.requestTimeout = 0;
  // Outlive the idle timeout of keep-alive clients (proxies, Go's 90 s default) so a reused socket is
  // never closed under a request in flight; draining closes idle sockets itself.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  async function drain(timeoutMs: number): Promise<{ drained: boolean; abandoned: number }> {
    draining = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (active > 0) {
      const idle = new Promise<void>((resolve) => (onIdle = resolve));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      await Promise.race([idle, timeout]);
      clearTimeout(timer);
    }
    const abandoned = active;
    if (abandoned > 0) server.closeAllConnections();
    await closed;
    return { drained: abandoned === 0, abandoned };
  }

  return { server, inFlight: () => active, drain };
}
