// The handler contract of the node20-ts template, the same shape as the stock OpenFaaS Node templates:
// `async (event, context)`; return a value or call `context.succeed(value)` / `context.fail(err)`.
import type { BatchProcessingConfig } from '../../shared/config/index.ts';
import type { Logger } from '../../shared/log/index.ts';

export interface FunctionEvent {
  /**
   * The request body. Parsed JSON when the request's content-type is JSON (`application/json`, `*+json`)
   * and the body is not empty; otherwise the body decoded as UTF-8 ('' when empty). Use `rawBody` for bytes.
   */
  body: unknown;
  /** The body exactly as received (Buffer-safe); empty Buffer when there was none. */
  rawBody: Buffer;
  /** Lower-case header names, as node:http gives them. */
  headers: Record<string, string | string[] | undefined>;
  method: string;
  /** Query string values; a key given twice keeps the last value. */
  query: Record<string, string>;
  /** The path after the function's route, e.g. `/runs` (always starts with `/`). */
  path: string;
}

export interface FunctionContext {
  /** Sets the status code (chainable), or reads it when called without an argument. */
  status(code: number): FunctionContext;
  status(): number;
  /** Merges response headers (chainable), or reads them when called without an argument. */
  headers(values: Record<string, string>): FunctionContext;
  headers(): Record<string, string>;
  /** Sets the response value; the first of succeed/fail/return wins. */
  succeed(value?: unknown): FunctionContext;
  /** Answers as if the handler had thrown `err`. */
  fail(err: unknown): FunctionContext;
  /** A pino logger bound to this request's id (`reqId`) and the function name (`fn`). */
  readonly log: Logger;
  /** The request id: `X-Call-Id`, else `X-Request-Id`, else generated. */
  readonly requestId: string;
}

export type Handler = (event: FunctionEvent, context: FunctionContext) => unknown;

/**
 * What a handler module exports: a default export or `handle`; `init` runs before the server listens (a
 * throw stops the process with exit code 1) and may return the configuration it loaded, which the
 * template's logger then takes (else the template loads it); `close` runs after SIGTERM drained.
 */
export interface HandlerModule {
  default?: Handler;
  handle?: Handler;
  init?: () => Promise<BatchProcessingConfig | void> | BatchProcessingConfig | void;
  close?: () => Promise<void> | void;
}
