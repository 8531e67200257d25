import pino from 'pino';
import type { BatchProcessingConfig } from '../config/schema.ts';
import { secretKeys } from '../config/keys.ts';
import { lineScrubber, redactDeep } from './redact.ts';

export type LogLevel = BatchProcessingConfig['log']['level'];
export type Logger = pino.Logger;

/** The loaded configuration (its level and secrets are used), or just a level. */
export type LoggerSource = Pick<BatchProcessingConfig, 'log'> | { level: LogLevel };

/**
 * A pino logger writing JSON lines (ISO time, level label) to stdout or `destination`. Secrets never get
 * out: secret-named keys are censored at any depth, URL passwords and Bearer tokens in any text, and, when
 * given the configuration, the configured secret values wherever they occur.
 */
export function createLogger(
  source: LoggerSource,
  bindings: Record<string, unknown> = {},
  destination?: pino.DestinationStream,
): Logger {
  const level = 'log' in source ? source.log.level : source.level;
  const scrub = lineScrubber(secretValuesOf(source));
  const options: pino.LoggerOptions = {
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      bindings: (values) => redactDeep(values) as Record<string, unknown>,
      log: (object) => redactDeep(object) as Record<string, unknown>,
    },
    serializers: { err: serializeErr },
    hooks: { streamWrite: scrub },
  };
  const logger = destination === undefined ? pino(options) : pino(options, destination);
  return Object.keys(bindings).length === 0 ? logger : logger.child(bindings);
}

/**
 * pino's serialized error is not a plain object: it is copied so that its fields (context, …) are walked too.
 * Anything else under `err` (a message, say) is logged as it is: spread, a string became an object of its
 * characters ({"0":"C","1":"a",…}).
 */
function serializeErr(err: unknown): unknown {
  if (typeof err !== 'object' || err === null) return err;
  return redactDeep({ ...pino.stdSerializers.err(err as Error) });
}

/** The configured secrets; of DATABASE_URL, its password (raw and percent-decoded). */
function secretValuesOf(source: LoggerSource): string[] {
  if (!('api' in source)) return [];
  const config = source as BatchProcessingConfig;
  const values: string[] = [];
  for (const key of secretKeys) {
    if (key === 'database.url') continue; // its password only (below): the host and database stay readable
    const value = key
      .split('.')
      .reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], config);
    if (typeof value === 'string') values.push(value);
  }
  if (config.database.url !== undefined && URL.canParse(config.database.url)) {
    const password = new URL(config.database.url).password;
    if (password !== '') values.push(password, safeDecode(password));
  }
  return values;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
