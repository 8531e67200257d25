// The chainable `context` object handed to a handler (status / headers / succeed / fail).
import type { Logger } from '../../shared/log/index.ts';
import type { FunctionContext } from './types.ts';

export type Outcome =
  { kind: 'none' } | { kind: 'value'; value: unknown } | { kind: 'error'; error: unknown };

export class RequestContext implements FunctionContext {
  #status: number | undefined;
  #headers: Record<string, string> = {};
  outcome: Outcome = { kind: 'none' };

  constructor(
    readonly log: Logger,
    readonly requestId: string,
  ) {}

  status(code: number): FunctionContext;
  status(): number;
  status(code?: number): FunctionContext | number {
    if (code === undefined) return this.#status ?? 200;
    if (!Number.isInteger(code) || code < 100 || code > 599) {
      throw new TypeError(`context.status(${String(code)}): expected an integer HTTP status 100–599`);
    }
    this.#status = code;
    return this;
  }

  /** true when the handler chose a status itself. */
  get statusSet(): boolean {
    return this.#status !== undefined;
  }

  headers(values: Record<string, string>): FunctionContext;
  headers(): Record<string, string>;
  headers(values?: Record<string, string>): FunctionContext | Record<string, string> {
    if (values === undefined) return { ...this.#headers };
    for (const [name, value] of Object.entries(values)) this.#headers[name.toLowerCase()] = String(value);
    return this;
  }

  succeed(value?: unknown): FunctionContext {
    if (this.outcome.kind === 'none') this.outcome = { kind: 'value', value };
    return this;
  }

  fail(error: unknown): FunctionContext {
    if (this.outcome.kind === 'none') this.outcome = { kind: 'error', error };
    return this;
  }
}
