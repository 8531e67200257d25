// Errors of the database layer. Kept local until shared/errors (the one catalogue) lands; the shape is
// the catalogue's: a stable `code`, a `retriable` flag and `context` fields that never hold secrets.

export type DbErrorCode =
  /** Could not reach or log in to PostgreSQL at startup, after the configured retries. */
  | 'DB_CONNECT_FAILED'
  /** A migration failed (rolled back), was edited after it was applied, or the migration files clash. */
  | 'DB_MIGRATION_FAILED'
  /** Embedded mode: a query asked for a second connection while this call chain already holds the only one. */
  | 'DB_EMBEDDED_NESTED_CONNECTION';

export class DbError extends Error {
  readonly code: DbErrorCode;
  readonly retriable: boolean;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(
    code: DbErrorCode,
    message: string,
    options: { retriable?: boolean; context?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DbError';
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.context = Object.freeze({ ...options.context });
  }
}

/** SQLSTATE or errno code of an error from `pg`/`net`, if it has one. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
