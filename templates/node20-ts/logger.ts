// The template's logger: shared/log's pino JSON lines (secrets scrubbed) on stdout, bound to the function name.
// Written synchronously: with pino's default asynchronous stdout, flush(cb) answers at once and the exit
// handler's synchronous flush could overtake a write still in flight, so a function's last lines (a
// request completing, "stopped") reached the log out of order or not at all. A function logs a few lines
// per request; blocking on them costs microseconds.
import pino from 'pino';
import { LOG_LEVELS } from '../../shared/config/index.ts';
import { createLogger, type Logger, type LogLevel } from '../../shared/log/index.ts';

export function createTemplateLogger(functionName: string | undefined, env = process.env): Logger {
  const wanted = env.LOG_LEVEL ?? 'info';
  const level = (LOG_LEVELS as readonly string[]).includes(wanted) ? (wanted as LogLevel) : 'info';
  return createLogger(
    { level },
    { fn: functionName ?? 'function' },
    pino.destination({ dest: 1, sync: true }),
  );
}
