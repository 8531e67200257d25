// What the read routes take and give: a request already split by the template (query, headers) and an
// answer with headers; a streamed body is a Readable.
import type { Readable } from 'node:stream';
import type { Queryable } from '../db/index.ts';

export interface ReadContext {
  db: Queryable;
  /** The configured zone (time.zone): days, weeks and months, and local dates in requests. */
  timeZone: string;
  /** Today, for defaults such as the last 7 days; injectable for tests. */
  now?: () => Date;
}

export interface ReadRequest {
  query: Record<string, string | undefined>;
  headers: Record<string, string | string[] | undefined>;
}

export interface ReadAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export type StreamBody = Readable;
