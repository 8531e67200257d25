// Startup connect with exponential backoff. Whether to retry is read from the error's errno/SQLSTATE
// code only; the final error names the server (host, port, database, user), never the password.
import { BatchError, isRetriable } from '../errors/index.ts';
import { errorCode } from './errors.ts';
import type { DbLogger, PoolLike } from './types.ts';

export interface ConnectRetryOptions {
  /** Attempts in total, the first included (default 10). */
  attempts?: number;
  /** Wait before the second attempt (default 250 ms); it doubles after each failure, up to maxDelayMs. */
  initialDelayMs?: number;
  /** Longest single wait (default 5000 ms). */
  maxDelayMs?: number;
  /** Give up instead of waiting past this much time since the first attempt (default 60000 ms). */
  maxElapsedMs?: number;
  /** One attempt that neither connects nor fails within this counts as ETIMEDOUT (default 10000 ms). */
  attemptTimeoutMs?: number;
}

export interface ConnectTarget {
  host: string;
  port: number;
  database: string;
  user: string;
}

const DEFAULTS: Required<ConnectRetryOptions> = {
  attempts: 10,
  initialDelayMs: 250,
  maxDelayMs: 5000,
  maxElapsedMs: 60_000,
  attemptTimeoutMs: 10_000,
};

/**
 * Whether waiting may help: the catalogue's rule (shared/errors isRetriable: ECONNREFUSED, ETIMEDOUT,
 * EAI_AGAIN …, SQLSTATE class 08, 57P01-3 starting/stopping, 53300 full) read from the code only. A bad
 * password (28P01), unknown database (3D000) or host (ENOTFOUND) fails at once. Errors without any code are
 * pg's own transport failures ("Connection terminated unexpectedly"), so they are retried too.
 */
export function isRetriableConnectError(err: unknown): boolean {
  if (errorCode(err) === undefined && !Array.isArray((err as { errors?: unknown } | null)?.errors))
    return true;
  return isRetriable(err);
}

/** host/port/database/user of a postgres:// URL, with libpq's environment defaults; never the password. */
export function describeTarget(connectionString: string): ConnectTarget & { password: string } {
  const env = process.env;
  let url: URL | undefined;
  try {
    url = new URL(connectionString);
  } catch {
    url = undefined;
  }
  const user = decodeURIComponent(url?.username ?? '') || env.PGUSER || env.USER || 'postgres';
  return {
    host: url?.hostname || url?.searchParams.get('host') || env.PGHOST || 'localhost',
    port: Number(url?.port || env.PGPORT || 5432),
    database: decodeURIComponent(url?.pathname.slice(1) ?? '') || env.PGDATABASE || user,
    user,
    password: decodeURIComponent(url?.password ?? '') || env.PGPASSWORD || '',
  };
}

const HINTS: Record<string, string> = {
  ECONNREFUSED: 'nothing is listening there: is PostgreSQL running, and is the port in the URL right?',
  ETIMEDOUT: 'the server did not answer: check the host, firewall and that PostgreSQL is up',
  ENOTFOUND: 'the host name does not resolve: check the host in the URL',
  '28P01': 'the password was rejected: check the credentials in the URL or secret',
  '28000': 'the server refused this user: check pg_hba.conf and the user name',
  '3D000': 'the database does not exist: create it or fix the name in the URL',
  '57P03': 'the server is still starting up: raise the retry budget if it needs longer',
  '53300': 'the server has no free connections: lower poolSize or raise max_connections',
};

function scrub(text: string, secret: string): string {
  if (!secret) return text;
  return text.split(secret).join('***').split(encodeURIComponent(secret)).join('***');
}

function connectFailed(
  target: ConnectTarget & { password: string },
  err: unknown,
  attempts: number,
  ms: number,
): BatchError {
  const code = errorCode(err) ?? 'no code';
  const detail = scrub(err instanceof Error ? err.message : String(err), target.password);
  const where = `${target.host}:${target.port}, database "${target.database}", user "${target.user}"`;
  const tries = `${attempts} attempt${attempts === 1 ? '' : 's'} over ${ms < 10_000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`}`;
  const hint = HINTS[code] ?? 'check that the server is reachable and the URL is right';
  return new BatchError(
    'DB_CONNECT_FAILED',
    `could not connect to PostgreSQL at ${where} after ${tries}: ${code} (${detail}); ${hint}`,
    {
      retriable: isRetriableConnectError(err),
      context: {
        host: target.host,
        port: target.port,
        database: target.database,
        user: target.user,
        causeCode: code,
        attempts,
      },
      cause: err,
    },
  );
}

async function connectOnce(pool: PoolLike, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const pending = pool.connect();
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })),
      timeoutMs,
    );
  });
  try {
    const client = await Promise.race([pending, timeout]);
    client.release();
  } catch (err) {
    // A connect that answers after we gave up must go back to the pool rather than leak.
    pending.then((c) => c.release()).catch(() => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** The defaults, overridden by the options that are set; refuses settings that would never stop. */
function retrySettings(options: ConnectRetryOptions): Required<ConnectRetryOptions> {
  const o = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS) as Array<keyof ConnectRetryOptions>) {
    const value = options[key];
    if (value === undefined) continue;
    if (
      !Number.isFinite(value) ||
      value < 0 ||
      (key === 'attempts' && (value < 1 || !Number.isInteger(value)))
    ) {
      throw new TypeError(
        `connectRetry.${key} must be a finite number ${key === 'attempts' ? '(an integer ≥ 1)' : '≥ 0 (ms)'}, got ${value}`,
      );
    }
    o[key] = value;
  }
  return o;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The clock of the backoff; tests inject a virtual one so the time budget is checked without real waits. */
export interface RetryClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const REAL_CLOCK: RetryClock = { now: () => Date.now(), sleep: realSleep };

/**
 * Opens (and returns to the pool) one connection, retrying transient failures with exponential backoff.
 * Throws BatchError DB_CONNECT_FAILED when it gives up or the failure is not transient. Returns the attempts used.
 */
export async function connectWithRetry(
  pool: PoolLike,
  connectionString: string,
  options: ConnectRetryOptions = {},
  logger?: DbLogger,
  clock: RetryClock = REAL_CLOCK,
): Promise<number> {
  const o = retrySettings(options);
  const target = describeTarget(connectionString);
  const started = clock.now();
  let delay = o.initialDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await connectOnce(pool, o.attemptTimeoutMs);
      return attempt;
    } catch (err) {
      const elapsed = clock.now() - started;
      if (!isRetriableConnectError(err) || attempt >= o.attempts || elapsed + delay > o.maxElapsedMs) {
        throw connectFailed(target, err, attempt, elapsed);
      }
      logger?.warn?.(
        {
          host: target.host,
          port: target.port,
          database: target.database,
          attempt,
          code: errorCode(err),
          retryInMs: delay,
        },
        'PostgreSQL not reachable yet; retrying',
      );
      await clock.sleep(delay);
      delay = Math.min(delay * 2, o.maxDelayMs);
    }
  }
}
