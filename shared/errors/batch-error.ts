import type { ErrorCode } from './codes.ts';
import { errorCatalogue } from './codes.ts';

export interface BatchErrorOptions {
  /** Fields that locate the failure (topic, partition, window, key, …). Never secrets. */
  context?: Record<string, unknown>;
  cause?: unknown;
  /** Overrides the catalogue's flag for this one error. */
  retriable?: boolean;
}

/** The project's one error type: a catalogue `code`, a `retriable` flag and `context` fields. */
export class BatchError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly context: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string = errorCatalogue[code].description,
    options: BatchErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BatchError';
    this.code = code;
    this.retriable = options.retriable ?? errorCatalogue[code].retriable;
    this.context = options.context ?? {};
  }

  /** The HTTP status the catalogue gives this code. */
  get status(): number {
    return errorCatalogue[this.code].status;
  }

  toJSON(): {
    name: string;
    code: ErrorCode;
    message: string;
    retriable: boolean;
    context: Record<string, unknown>;
  } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retriable: this.retriable,
      context: this.context,
    };
  }
}

export function isBatchError(value: unknown, code?: ErrorCode): value is BatchError {
  return value instanceof BatchError && (code === undefined || value.code === code);
}
