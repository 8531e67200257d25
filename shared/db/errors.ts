// The database layer raises BatchError (shared/errors) with DB_CONNECT_FAILED, DB_MIGRATION_FAILED and
// DB_EMBEDDED_NESTED_CONNECTION. This helper reads the errno/SQLSTATE that retry decisions rest on.

/** SQLSTATE or errno code of an error from `pg`/`net`, if it has one. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
