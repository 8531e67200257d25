// Starts the template server for one handler module: reads the env, listens, logs `listening`, and on
// SIGTERM/SIGINT drains in-flight requests, runs the module's `close`, then exits.
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
  logger.info({ port, maxBodyBytes: settings.maxBodyBytes }, 'listening');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, inFlight: fn.inFlight() }, 'draining');
    void (async () => {
      const result = await fn.drain(settings.drainTimeoutMs);
      try {
        await module.close?.();
      } catch (err) {
        logger.error({ err }, 'close failed');
      }
      logger.info(result, 'stopped');
      process.exit(result.drained ? 0 : 1);
    })();
  };
  // `on`, not `once`: a signal sent to the process group and the same one forwarded by a supervisor arrive
  // both, and the second must not kill a function that is still draining.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
