export { createLogger } from './logger.ts';
export type { Logger, LoggerSource, LogLevel } from './logger.ts';
export { CENSOR, isSecretKey, lineScrubber, redactDeep, scrubText } from './redact.ts';
