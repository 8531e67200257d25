// Dead letters as the API shows them (GET /dead-letters, GET /dead-letters/<id>) and their replay
// (POST /dead-letters/replay): a letter's original bytes go through today's normaliser and store again, so
// once its cause is fixed (a limit raised, a producer's clock corrected) the event lands — exactly once: the
// letters are locked for the transaction, a letter already replayed is skipped, and the event's own key
// (its id, its Kafka offset, or its hash) makes a second store a duplicate. A letter that is still bad stays
// a dead letter with the new reason recorded; replay creates no new dead letters, but for an event whose id
// was stored before with other content, which lands as a conflicting duplicate as on every path. A conflict
// letter replays its conflicting event, which is refused again while the kept event holds its id.
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { Database, Queryable } from '../db/index.ts';
import { BatchError } from '../errors/index.ts';
import { refuseUnknownParams } from '../http/index.ts';
import { recordIngest } from '../metrics/index.ts';
import { CONFLICT_CODE, conflictingEventBytes } from './conflicts.ts';
import {
  lockDeadLetters,
  markReplayed,
  selectDeadLetters,
  type DeadLetterRow,
  type ReplayMark,
} from './dead-letters-sql.ts';
import {
  normalizeHttpBody,
  normalizeKafkaRecord,
  type NormalizeSettings,
  type Normalized,
} from './normalize.ts';
import { storeEvents } from './store.ts';
import type { IngestEvent, StoreResult } from './types.ts';

export const MAX_DEAD_LETTERS_LIMIT = 500;
export const MAX_REPLAY_IDS = 500;
/** Payload bytes shown per letter in a listing; GET /dead-letters/<id> shows all of it. */
export const LIST_PAYLOAD_BYTES = 4096;

export interface DeadLetterView {
  id: number;
  receivedAt: string;
  origin: 'kafka' | 'http';
  reason: { code: string; message: string };
  /** The original bytes: as text when they are UTF-8, else base64. */
  payload: { encoding: 'utf8' | 'base64'; data: string; bytes: number; truncated: boolean };
  /** Where the record was in Kafka; null for an HTTP push. */
  source: { topic: string; partition: number; offset: string } | null;
  replay: {
    attempts: number;
    replayedAt: string | null;
    outcome: 'stored' | 'duplicate' | 'rejected' | null;
    error: string | null;
  };
}

function payloadView(bytes: Buffer, total: number): DeadLetterView['payload'] {
  const truncated = bytes.length < total;
  const text = bytes.toString('utf8');
  // Valid UTF-8 round-trips; a cut in the middle of a character is allowed at a truncated end only.
  const utf8 =
    Buffer.from(text, 'utf8').equals(bytes) || (truncated && !text.slice(0, -1).includes('\uFFFD'));
  return utf8
    ? { encoding: 'utf8', data: truncated ? text.replace(/\uFFFD$/, '') : text, bytes: total, truncated }
    : { encoding: 'base64', data: bytes.toString('base64'), bytes: total, truncated };
}

export function deadLetterView(row: DeadLetterRow): DeadLetterView {
  return {
    id: Number(row.id),
    receivedAt: new Date(row.received_at).toISOString(),
    origin: row.origin,
    reason: { code: row.reason_code, message: row.reason },
    payload: payloadView(row.payload, Number(row.payload_bytes)),
    source:
      row.topic !== null && row.kafka_partition !== null && row.kafka_offset !== null
        ? { topic: row.topic, partition: row.kafka_partition, offset: row.kafka_offset }
        : null,
    replay: {
      attempts: row.replay_attempts,
      replayedAt: row.replayed_at === null ? null : new Date(row.replayed_at).toISOString(),
      outcome: row.replay_outcome,
      error: row.replay_error,
    },
  };
}

/** The largest id a bigint column holds; a longer 19-digit one overflowed int8 in the query, a 500. */
const MAX_ROW_ID = 9223372036854775807n;

/** A dead letter id (or page cursor) as text: a positive integer that fits the bigint id column. */
function isRowId(text: string): boolean {
  return /^[1-9][0-9]{0,18}$/.test(text) && BigInt(text) <= MAX_ROW_ID;
}

// ---- GET /dead-letters -------------------------------------------------------------------------------

const isoInstant = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 time, e.g. 2026-11-28T00:00:00Z',
});
export const DeadLettersQuery = z
  .object({
    reason: z
      .string()
      .regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'must be a reason code such as EVENT_SCHEMA (see docs/errors.md)')
      .optional(),
    from: isoInstant.optional(),
    to: isoInstant.optional(),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_DEAD_LETTERS_LIMIT, `must be at most ${MAX_DEAD_LETTERS_LIMIT}`)
      .default(50),
    cursor: z.string().refine(isRowId, 'must be the nextCursor of an earlier page').optional(),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), {
    message: '"from" must be before "to" (to is exclusive)',
    path: ['to'],
  });

export type DeadLettersQuery = z.input<typeof DeadLettersQuery>;

/** Parses the query string; a bad value is REQUEST_INVALID naming the parameter. */
export function parseDeadLettersQuery(
  query: Record<string, string | undefined>,
): z.output<typeof DeadLettersQuery> {
  refuseUnknownParams(query, ['reason', 'from', 'to', 'limit', 'cursor']);
  const present = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = DeadLettersQuery.safeParse(present);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const name = issue.path.join('.') || 'query';
  throw new BatchError(
    'REQUEST_INVALID',
    `${name}=${JSON.stringify(present[name] ?? '')}: ${issue.message}`,
    {
      context: { field: name },
    },
  );
}

export interface DeadLetterPage {
  deadLetters: DeadLetterView[];
  count: number;
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export async function listDeadLetters(
  db: Queryable,
  query: Record<string, string | undefined>,
): Promise<DeadLetterPage> {
  const q = parseDeadLettersQuery(query);
  const rows = await selectDeadLetters(db, {
    reason: q.reason,
    from: q.from ? new Date(q.from) : undefined,
    to: q.to ? new Date(q.to) : undefined,
    beforeId: q.cursor,
    limit: q.limit + 1,
    payloadBytes: LIST_PAYLOAD_BYTES,
  });
  const page = rows.slice(0, q.limit).map(deadLetterView);
  const last = page.at(-1);
  return {
    deadLetters: page,
    count: page.length,
    nextCursor: rows.length > q.limit && last ? String(last.id) : null,
  };
}

export async function getDeadLetter(db: Queryable, id: string): Promise<DeadLetterView> {
  if (!isRowId(id)) {
    throw new BatchError(
      'REQUEST_INVALID',
      `dead letter id ${JSON.stringify(id.slice(0, 40))} is not a dead letter id (a positive integer up to ${MAX_ROW_ID})`,
      { context: { field: 'id' } },
    );
  }
  const [row] = await selectDeadLetters(db, { id, limit: 1 });
  if (row === undefined) {
    throw new BatchError('NOT_FOUND', `no dead letter ${id}; list them with GET /dead-letters`, {
      context: { id },
    });
  }
  return deadLetterView(row);
}

// ---- POST /dead-letters/replay ----------------------------------------------------------------------

const NOT_AN_ID = `each id must be a dead letter id (a positive integer up to ${MAX_ROW_ID})`;

export const ReplayRequest = z
  .object({
    ids: z
      .array(
        z.union([z.number().int().positive(), z.string().refine(isRowId, NOT_AN_ID)], { error: NOT_AN_ID }),
      )
      .min(1, 'give at least one dead letter id')
      .max(MAX_REPLAY_IDS, `at most ${MAX_REPLAY_IDS} ids per request`),
  })
  .strict();

export type ReplayOutcome = 'stored' | 'duplicate' | 'rejected' | 'already_replayed' | 'not_found';

export interface ReplayItem {
  id: number;
  outcome: ReplayOutcome;
  /** Events stored by this replay (a payload may hold several, e.g. an NDJSON body). */
  stored?: number;
  /** Why it is still refused, when `rejected`. */
  reason?: { code: string; message: string };
}

export interface ReplayResult {
  results: ReplayItem[];
  stored: number;
  duplicates: number;
  rejected: number;
}

export interface ReplayDeps {
  db: Database;
  settings: NormalizeSettings;
  /** Where the replayed events are counted (hxp_ingest_events_total{via="replay"}). */
  metrics?: Registry | undefined;
}

/** What a letter offers again: its original bytes, or a conflict letter's conflicting event. */
function replayedBytes(row: DeadLetterRow): Buffer {
  return (row.reason_code === CONFLICT_CODE ? conflictingEventBytes(row.payload) : undefined) ?? row.payload;
}

/** The events of a letter's payload under today's rules, as its ingest path would have made them. */
function renormalize(row: DeadLetterRow, settings: NormalizeSettings): Normalized[] {
  const payload = replayedBytes(row);
  if (
    row.origin === 'kafka' &&
    row.topic !== null &&
    row.kafka_partition !== null &&
    row.kafka_offset !== null
  ) {
    return [
      normalizeKafkaRecord(
        {
          topic: row.topic,
          partition: row.kafka_partition,
          offset: row.kafka_offset,
          timestamp: undefined,
          value: payload,
        },
        settings,
      ),
    ];
  }
  return normalizeHttpBody(payload, settings, 'application/json');
}

/**
 * Why stored events are still refused: unstorable text, or a conflict — the replayed event's id still names
 * a kept event with other content, so it is refused as before (its letter already exists: no new one).
 */
function stillRefused(stored: StoreResult): { code: string; message: string } | undefined {
  const unstorable = stored.unstorable[0];
  if (unstorable) return { code: unstorable.reasonCode, message: unstorable.reason };
  const conflict = stored.conflicts[0];
  if (conflict === undefined) return undefined;
  return {
    code: conflict.reasonCode,
    message:
      `the conflicting event was offered again and still conflicts with the kept one, so it is not stored: ` +
      `${conflict.reason}; a replay cannot change an id — send the changed event with a new id`,
  };
}

export async function replayDeadLetters(deps: ReplayDeps, body: unknown): Promise<ReplayResult> {
  const { ids } = ReplayRequest.parse(body);
  let conflicting = 0;
  const wanted = [...new Set(ids.map((id) => String(id)))];
  const result = await deps.db.transaction(async (client): Promise<ReplayResult> => {
    const rows = new Map((await lockDeadLetters(client, wanted)).map((r) => [r.id, r]));
    const out: ReplayResult = { results: [], stored: 0, duplicates: 0, rejected: 0 };
    conflicting = 0;
    const marks: ReplayMark[] = [];
    for (const id of wanted) {
      const row = rows.get(id);
      if (row === undefined) {
        out.results.push({ id: Number(id), outcome: 'not_found' });
        continue;
      }
      if (row.replayed_at !== null) {
        out.results.push({ id: Number(id), outcome: 'already_replayed' });
        continue;
      }
      const normalized = renormalize(row, deps.settings);
      const refused = normalized.find((n) => !n.ok);
      if (refused && !refused.ok) {
        const reason = { code: refused.letter.reasonCode, message: refused.letter.reason };
        out.results.push({ id: Number(id), outcome: 'rejected', reason });
        out.rejected += 1;
        marks.push({ id, outcome: 'rejected', error: `${reason.code}: ${reason.message}` });
        continue;
      }
      const events = normalized.flatMap((n): IngestEvent[] => (n.ok ? [n.event] : []));
      const stored = await storeEvents(client, events, [], {
        embedded: deps.db.embedded,
        origin: row.origin,
      });
      const still = stillRefused(stored);
      if (still) {
        const reason = still;
        out.results.push({ id: Number(id), outcome: 'rejected', reason });
        out.rejected += 1;
        marks.push({ id, outcome: 'rejected', error: `${reason.code}: ${reason.message}` });
        continue;
      }
      const outcome = stored.stored > 0 ? 'stored' : 'duplicate';
      out.results.push({ id: Number(id), outcome, stored: stored.stored });
      out.stored += stored.stored;
      out.duplicates += stored.duplicates;
      conflicting += stored.conflictingDuplicates;
      marks.push({ id, outcome, error: null });
    }
    await markReplayed(client, marks);
    return out;
  });
  if (deps.metrics) {
    recordIngest(deps.metrics, 'replay', {
      stored: result.stored,
      duplicates: result.duplicates,
      conflictingDuplicates: conflicting,
      rejectedReasons: result.results.flatMap((r) => (r.reason ? [r.reason.code] : [])),
    });
  }
  return result;
}
