// Reading an error's code and message for the runs ledger and retry state. Errors raised on purpose are
// BatchErrors from the one catalogue (shared/errors); database errors carry a SQLSTATE in `code`.
export { BatchError } from '../errors/index.ts';

/** The code of an error: a catalogue code, a SQLSTATE from `pg`, or 'INTERNAL'. */
export function codeOf(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code) return code;
  }
  return 'INTERNAL';
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
