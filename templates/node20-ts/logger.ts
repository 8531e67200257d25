// The template's logger: shared/log's pino JSON lines (secrets scrubbed) on stdout, bound to the function name.
// Written synchronously: with pino's default asynchronous stdout, flush(cb) answers at once and the exit
// handler's synchronous flush could overtake a write still in flight, so a function's last lines (a
// request completing, "stopped") reached the log out of order or not at all. A function logs a few lines
// per request; blocking on them costs microseconds.
import pino from 'pino';
import { createLogger, type Logger, type LoggerSource } from '../../shared/log/index.ts';

/**
 * `source` is the loaded configuration, so that `log.level` from any of its sources (LOG_LEVEL, the
 * CONFIG_FILE's logging.level) applies and its secret values are scrubbed too; a bare level only where
 * no configuration could be loaded.
 */
export function createTemplateLogger(functionName: string | undefined, source: LoggerSource): Logger {
  return createLogger(source, { fn: functionName ?? 'function' }, pino.destination({ dest: 1, sync: true }));
}
