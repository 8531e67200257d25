// The opaque page cursor: the last row's sort key plus a fingerprint of the query it belongs to, as
// base64url JSON. Not a secret (it only says where a page starts); a cursor of another query, or one that
// was edited into nonsense, is a 400 that says so.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { BatchError } from '../errors/index.ts';
import type { RowKey } from './aggregates-sql.ts';

const CursorSchema = z.object({
  v: z.literal(1),
  q: z.string(),
  k: z.tuple([z.iso.datetime(), z.string(), z.string(), z.string()]),
});

/** A short stable hash of what selects the rows (not of the page size or the format). */
export function fingerprint(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);
}

export function encodeCursor(query: string, key: RowKey): string {
  const body = { v: 1, q: query, k: [key.timestamp, key.eventType, key.metric, key.dimensionValue] };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

export function decodeCursor(cursor: string, query: string): RowKey {
  let parsed: z.infer<typeof CursorSchema> | undefined;
  try {
    const json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    parsed = CursorSchema.safeParse(json).data;
  } catch {
    parsed = undefined;
  }
  if (!parsed) {
    throw new BatchError(
      'REQUEST_INVALID',
      'cursor is not a cursor this API gave out; pass next_cursor of the previous page unchanged, or leave it out for the first page',
      { context: { field: 'cursor' } },
    );
  }
  if (parsed.q !== query) {
    throw new BatchError(
      'REQUEST_INVALID',
      'cursor belongs to a query with other filters (level, event_type, metric, dimension, value, from, to); keep them as they were for every page',
      { context: { field: 'cursor' } },
    );
  }
  const [timestamp, eventType, metric, dimensionValue] = parsed.k;
  return { timestamp, eventType, metric, dimensionValue };
}
