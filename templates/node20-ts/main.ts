// Starts the template server for one handler module: reads the env, listens, logs `listening`, and on
// SIGTERM/SIGINT drains in-flight requests, runs the module's `close`, then exits — under of-watchdog, SIGTERM
// first waits out the watchdog's grace, listening, since the watchdog still routes requests here.
import type { AddressInfo } from 'node:net';
import { loadConfig, type BatchProcessingConfig } from '../../shared/config/index.ts';
import { isBatchError } from '../../shared/errors/index.ts';
import type { Logger } from '../../shared/log/index.ts';
import { functionMetrics } from '../../shared/metrics/index.ts';
import { createTemplateLogger } from './logger.ts';
import { createFunctionServer } from './server.ts';
import type { Handler, HandlerModule } from './types.ts';

export const DEFAULT_MAX_REQUEST_BODY = 1024 * 1024;

export interface TemplateSettings {
  port: number;
  functionName: string | undefined;
  maxBodyBytes: number;
  drainTimeoutMs: number;
  /** How long SIGTERM leaves the server listening before it drains: of-watchdog's grace, else 0. */
  shutdownGraceMs: number;
}

function positiveInteger(name: string, raw: string | undefined, fallback: number, allowZero = false): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || (!allowZero && value === 0)) {
    throw new Error(
      `${name}=${JSON.stringify(raw)} is not valid: expected a whole number${allowZero ? ' ≥ 0' : ' > 0'}`,
    );
  }
  return value;
}

/** Go-style duration as of-watchdog reads it ("3600s", "1m30s", "500ms", or plain seconds) → ms. */
export function durationMs(raw: string | undefined): number | undefined {
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Number(raw) * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let matched = '';
  for (const m of raw.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(m[1]) * units[m[2]!]!;
    matched += m[0];
  }
  return matched === raw ? total : undefined;
}

/**
 * of-watchdog's grace after SIGTERM, 0 when the process does not run under it. The watchdog (http mode)
 * forwards SIGTERM to this process at once but keeps taking requests for its `healthcheck_interval` (default
 * its `write_timeout`, else 30 s; a value it cannot parse falls back the same way), with its lock file gone
 * so load balancers stop routing; only then does it stop listening and wait for its in-flight requests
 * (of-watchdog 0.11.6 pkg/watchdog.go listenUntilShutdown). It runs its fprocess with its own environment,
 * which names it (`fprocess` or `function_process`, `mode=http`); the local runtime and a plain
 * `node index.js` set neither and drain at once.
 */
/** How long before the end of of-watchdog's grace the function drains and closes (half a short grace). */
const CLOSE_BEFORE_GRACE_ENDS_MS = 5_000;

export function watchdogGraceMs(env: NodeJS.ProcessEnv = process.env): number {
  const underWatchdog = Boolean(env.fprocess || env.function_process) && env.mode === 'http';
  if (!underWatchdog) return 0;
  const writeTimeoutMs = durationMs(env.write_timeout) ?? 30_000;
  return durationMs(env.healthcheck_interval) ?? writeTimeoutMs;
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): TemplateSettings {
  return {
    port: positiveInteger('PORT', env.PORT, 3000, true),
    functionName: env.HXP_FUNCTION_NAME || undefined,
    maxBodyBytes: positiveInteger('MAX_REQUEST_BODY', env.MAX_REQUEST_BODY, DEFAULT_MAX_REQUEST_BODY),
    drainTimeoutMs: positiveInteger(
      'DRAIN_TIMEOUT_MS',
      env.DRAIN_TIMEOUT_MS,
      durationMs(env.write_timeout) ?? 30_000,
    ),
    shutdownGraceMs: watchdogGraceMs(env),
  };
}

export function handlerOf(module: HandlerModule): Handler {
  const fn = module.default ?? module.handle;
  if (typeof fn !== 'function') {
    throw new Error(
      'the handler module exports no handler: export default async (event, context) => … (or `handle`)',
    );
  }
  return fn;
}

/**
 * Runs the module's `init` and builds the logger from the configuration it returns, else from one loaded
 * here: either way the configuration is loaded once, and a bad one (an unknown LOG_LEVEL included)
 * throws CONFIG_INVALID instead of starting at a default level.
 */
export async function startupLogger(
  module: HandlerModule,
  functionName: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Logger> {
  const config: BatchProcessingConfig = (await module.init?.()) ?? loadConfig({ env });
  return createTemplateLogger(functionName, config);
}

/** How long a failed start waits for the module's close (its last metrics push has a 5 s timeout). */
const CLOSE_AFTER_FAILED_START_MS = 6_000;

async function closeWithin(module: HandlerModule, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([Promise.resolve(module.close?.()), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startFunction(module: HandlerModule, settings = readSettings()): Promise<void> {
  const handler = handlerOf(module);
  // Set before init, which may push it: a start that fails is a start too (a crash loop is a series of them).
  const metrics = functionMetrics();
  metrics.start.set(Math.floor(Date.now() / 1000));
  let logger: Logger;
  try {
    logger = await startupLogger(module, settings.functionName);
  } catch (err) {
    // A function that cannot work (bad configuration, no database) must not listen and answer 200s. A
    // catalogued error's message says what to fix; a stack is only for the unexpected. The configuration
    // may be what failed, so this line cannot take its level from it.
    const fields = isBatchError(err) ? { code: err.code } : { err };
    const log = createTemplateLogger(settings.functionName, { level: 'info' });
    log.fatal(fields, `cannot start: ${(err as Error).message}`);
    // What init opened (the metrics push saying this process started) is closed, briefly, before exiting.
    await closeWithin(module, CLOSE_AFTER_FAILED_START_MS).catch((closeErr: unknown) =>
      log.error({ err: closeErr }, 'close failed'),
    );
    process.exit(1);
  }
  const fn = createFunctionServer({ handler, logger, maxBodyBytes: settings.maxBodyBytes, metrics });
  await new Promise<void>((resolve, reject) => {
    fn.server.once('error', reject);
    fn.server.listen(settings.port, '127.0.0.1', () => resolve());
  });
  const { port } = fn.server.address() as AddressInfo;

  let stopping = false;
  let grace: NodeJS.Timeout | undefined;
  const drainAndExit = async (signal: string): Promise<void> => {
    logger.info({ signal, inFlight: fn.inFlight() }, 'draining');
    const result = await fn.drain(settings.drainTimeoutMs);
    try {
      await module.close?.();
    } catch (err) {
      logger.error({ err }, 'close failed');
    }
    logger.info(result, 'stopped');
    process.exit(result.drained ? 0 : 1);
  };
  const stop = (signal: NodeJS.Signals): void => {
    // SIGINT (Ctrl-C) while waiting out the watchdog's grace: drain now.
    if (grace && signal === 'SIGINT') {
      clearTimeout(grace);
      grace = undefined;
      void drainAndExit(signal);
      return;
    }
    if (stopping) return;
    stopping = true;
    const graceMs = signal === 'SIGTERM' ? settings.shutdownGraceMs : 0;
    if (graceMs === 0) {
      void drainAndExit(signal);
      return;
    }
    // Under of-watchdog: it still routes requests here for graceMs; stopping now would fail each one. The
    // drain and close() start a little before its grace ends: once it stops listening it exits as soon as
    // its last request is answered, and in a container that would end close() half done.
    const listenMs = graceMs - Math.min(CLOSE_BEFORE_GRACE_ENDS_MS, graceMs / 2);
    logger.info(
      { signal, graceMs, listenMs, inFlight: fn.inFlight() },
      'serving on while of-watchdog still routes here (its healthcheck_interval), then draining',
    );
    grace = setTimeout(() => {
      grace = undefined;
      void drainAndExit(signal);
    }, listenMs);
  };
  // `on`, not `once`: a signal sent to the process group and the same one forwarded by a supervisor arrive
  // both, and the second must not kill a function that is still draining.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // The ready signal comes last: a supervisor may send SIGTERM as soon as it reads it.
  logger.info({ port, maxBodyBytes: settings.maxBodyBytes }, 'listening');
}
