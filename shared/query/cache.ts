// Conditional GETs for polling dashboards: the validators are the newest run that changed the rows asked
// for (its id in the ETag, its finish time as Last-Modified), so an unchanged range answers 304 after one
// small query of the runs ledger instead of the page itself.
import { createHash } from 'node:crypto';
import type { LastChange } from './aggregates-sql.ts';

export interface Validators {
  etag: string;
  lastModified: Date | undefined;
}

/** Weak ETag: the representation is the same JSON or CSV for the same request and the same data. */
export function validatorsOf(request: unknown, change: LastChange): Validators {
  const hash = createHash('sha256')
    .update(JSON.stringify({ request, run: change.runId, at: change.finishedAt?.getTime() ?? null }))
    .digest('base64url')
    .slice(0, 22);
  return { etag: `W/"${hash}"`, lastModified: change.finishedAt ?? undefined };
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** RFC 9110 §13.1: If-None-Match (weak comparison) wins; If-Modified-Since only when it is absent. */
export function notModified(
  headers: Record<string, string | string[] | undefined>,
  validators: Validators,
): boolean {
  const noneMatch = header(headers, 'if-none-match');
  if (noneMatch !== undefined) {
    const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
    return noneMatch.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(validators.etag));
  }
  const since = header(headers, 'if-modified-since');
  if (since === undefined || validators.lastModified === undefined) return false;
  const sinceMs = Date.parse(since);
  // HTTP dates have whole seconds.
  return !Number.isNaN(sinceMs) && Math.floor(validators.lastModified.getTime() / 1000) * 1000 <= sinceMs;
}

export function cacheHeaders(validators: Validators): Record<string, string> {
  const headers: Record<string, string> = { etag: validators.etag, 'cache-control': 'no-cache' };
  if (validators.lastModified) headers['last-modified'] = validators.lastModified.toUTCString();
  return headers;
}
