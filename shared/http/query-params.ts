// A query string naming a parameter its route does not read is refused, naming it: a misspelt one (?limt=5)
// would otherwise be ignored and the answer look like the one asked for.
import { BatchError } from '../errors/index.ts';

export function refuseUnknownParams(query: object, allowed: readonly string[]): void {
  const unknown = Object.keys(query).filter((name) => !allowed.includes(name));
  if (unknown.length === 0) return;
  throw new BatchError(
    'REQUEST_INVALID',
    `unknown query parameter(s) ${unknown.join(', ')}; ${allowed.length > 0 ? `allowed: ${allowed.join(', ')}` : 'this route takes none'}`,
    { context: { field: unknown[0] } },
  );
}
