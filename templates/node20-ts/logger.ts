// The template's logger: shared/log's pino JSON lines (secrets scrubbed) on stdout, bound to the function name.
import { LOG_LEVELS } from '../../shared/config/index.ts';
import { createLogger, type Logger, type LogLevel } from '../../shared/log/index.ts';

export function createTemplateLogger(functionName: string | undefined, env = process.env): Logger {
  const wanted = env.LOG_LEVEL ?? 'info';
  const level = (LOG_LEVELS as readonly string[]).includes(wanted) ? (wanted as LogLevel) : 'info';
  return createLogger({ level }, { fn: functionName ?? 'function' });
}
