// Push ingestion: an HTTP body (one event, a JSON array, or NDJSON) or one record forwarded by the Kafka
// connector (X-Topic, X-Kafka-Partition, X-Kafka-Offset). A connector record gets the pull path's key
// `topic:partition:offset`, so pulling and pushing the same record stores it once.
import type { Database } from '../db/index.ts';
import { BatchError } from '../errors/index.ts';
import { ArchivedDays } from '../events/index.ts';
import { archivedRawDays } from '../retention/archives-sql.ts';
import type { Registry } from 'prom-client';
import { recordIngest } from '../metrics/index.ts';
import { conflictId } from './conflicts.ts';
import {
  normalizeHttpBody,
  normalizeKafkaRecord,
  type NormalizeSettings,
  type Normalized,
} from './normalize.ts';
import { claimRequestKey, saveRequestAnswer } from './push-requests-sql.ts';
import { IDEMPOTENCY_KEY_HEADER, requestKeyOf } from '../http/index.ts';
import { requestFingerprint } from './request-key.ts';
import { retriedTransaction } from './retry.ts';
import { storeEvents } from './store.ts';
import type { DeadLetter, IngestEvent, IngestLogger, StoreResult } from './types.ts';

/** The database plus the normalising settings (limits, dimension keys, clock), all optional. */
export interface PushDeps extends NormalizeSettings {
  db: Database;
  log?: IngestLogger | undefined;
  /** Where stored / duplicate / rejected counts go (the process registry in a function). */
  metrics?: Registry | undefined;
}

export interface PushRequest {
  body: string | Buffer;
  headers: Record<string, string | string[] | undefined>;
}

export interface PushRejection {
  /** Position of the event in the body (0 for a single event or a connector record). */
  index: number;
  code: string;
  reason: string;
}

/** An event not stored because its id names a stored event with other content (see conflicts.ts). */
export interface PushConflict {
  id: string;
  code: string;
  reason: string;
}

export interface PushResult {
  stored: number;
  /** Events stored before under the same identity (id, connector record or content), by any path. */
  duplicates: number;
  /** The duplicates whose id was stored with other content; each is in `conflicts` and in dead letters. */
  conflictingDuplicates: number;
  rejected: number;
  rejections: PushRejection[];
  conflicts: PushConflict[];
  /** llm_request events of the body whose cost_usd was inferred from the price table (pricing.*). */
  costInferred: number;
  /** llm_request events with tokens but no cost and no price for their model at their time: stored without cost. */
  unpriced: number;
}

export interface ConnectorRecord {
  topic: string;
  partition: number;
  offset: string;
}

function header(headers: PushRequest['headers'], name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

const MAX_PARTITION = 2 ** 31 - 1;
const MAX_OFFSET = 2n ** 63n - 1n;

/** The Kafka-connector coordinates of a request, or undefined when it is a plain HTTP push. */
export function connectorRecord(headers: PushRequest['headers']): ConnectorRecord | undefined {
  const topic = header(headers, 'X-Topic');
  const partition = header(headers, 'X-Kafka-Partition');
  const offset = header(headers, 'X-Kafka-Offset');
  if (topic === undefined && partition === undefined && offset === undefined) return undefined;
  const context = { topic, partition, offset };
  if (!topic || partition === undefined || offset === undefined) {
    throw new BatchError(
      'REQUEST_INVALID',
      `Kafka connector headers come together: X-Topic, X-Kafka-Partition and X-Kafka-Offset (got topic=${topic}, partition=${partition}, offset=${offset})`,
      { context },
    );
  }
  if (
    !/^\d{1,10}$/.test(partition.trim()) ||
    !/^\d{1,19}$/.test(offset.trim()) ||
    Number(partition.trim()) > MAX_PARTITION ||
    BigInt(offset.trim()) > MAX_OFFSET
  ) {
    throw new BatchError(
      'REQUEST_INVALID',
      `X-Kafka-Partition and X-Kafka-Offset must be non-negative integers within Kafka's int32 and int64 (got "${partition}" and "${offset}")`,
      { context },
    );
  }
  return { topic, partition: Number(partition.trim()), offset: BigInt(offset.trim()).toString() };
}

/** What a push answered, and whether it is the stored answer of an earlier request with its Idempotency-Key. */
export interface PushAnswer {
  result: PushResult;
  replayed: boolean;
}

export async function ingestPayload(deps: PushDeps, request: PushRequest): Promise<PushResult> {
  return (await answerPush(deps, request)).result;
}

/**
 * ingestPayload, also telling whether the answer was replayed: a request carrying an `Idempotency-Key`
 * already answered gets that answer back, stores nothing and counts nothing in the metrics.
 */
export async function answerPush(deps: PushDeps, request: PushRequest): Promise<PushAnswer> {
  const record = connectorRecord(request.headers);
  const requestKey = requestKeyOf(header(request.headers, IDEMPOTENCY_KEY_HEADER));
  const body = typeof request.body === 'string' ? Buffer.from(request.body) : request.body;
  const contentType = header(request.headers, 'Content-Type');
  const settings: PushDeps = deps.archivedDays
    ? deps
    : { ...deps, archivedDays: new ArchivedDays(await archivedRawDays(deps.db)) };
  const normalized: Normalized[] = record
    ? [normalizeKafkaRecord({ ...record, timestamp: undefined, value: body }, settings)]
    : normalizeHttpBody(body, settings, contentType);

  const events: IngestEvent[] = [];
  const letters: DeadLetter[] = [];
  const rejections: PushRejection[] = [];
  /** Each key's places in the body, in order (several when events repeat a key). */
  const eventIndex = new Map<string, number[]>();
  let costInferred = 0;
  let unpriced = 0;
  normalized.forEach((result, index) => {
    if (result.ok) {
      events.push(result.event);
      if (result.event.cost === 'inferred') costInferred += 1;
      else if (result.event.cost === 'unpriced') unpriced += 1;
      const places = eventIndex.get(result.event.idempotencyKey);
      if (places) places.push(index);
      else eventIndex.set(result.event.idempotencyKey, [index]);
    } else {
      letters.push(result.letter);
      rejections.push({ index, code: result.letter.reasonCode, reason: result.letter.reason });
    }
  });
  const origin = record ? 'kafka' : 'http';
  const keyed =
    requestKey === undefined
      ? undefined
      : { key: requestKey, fingerprint: requestFingerprint(body, contentType, record) };
  // A retry of this transaction after a COMMIT whose reply was lost finds the key answered: the first
  // attempt's answer is then this request's answer too.
  const answer = await retriedTransaction(() =>
    deps.db.transaction(async (client): Promise<PushAnswer> => {
      if (keyed) {
        const claim = await claimRequestKey<PushResult>(client, keyed.key, keyed.fingerprint);
        if (claim.kind === 'answered') return { result: claim.answer, replayed: true };
      }
      const stored = await storeEvents(client, events, letters, { embedded: deps.db.embedded, origin });
      const result = pushResult(stored, rejections, eventIndex, { costInferred, unpriced });
      if (keyed) await saveRequestAnswer(client, keyed.key, result);
      return { result, replayed: false };
    }),
  );
  const { result, replayed } = answer;
  if (deps.metrics && !replayed) {
    recordIngest(deps.metrics, record ? 'connector' : 'http', {
      stored: result.stored,
      duplicates: result.duplicates,
      conflictingDuplicates: result.conflictingDuplicates,
      rejectedReasons: result.rejections.map((r) => r.code),
    });
  }
  deps.log?.debug(
    {
      stored: result.stored,
      duplicates: result.duplicates,
      conflictingDuplicates: result.conflictingDuplicates,
      rejected: result.rejected,
      connector: record !== undefined,
      replayed,
    },
    replayed ? 'answered a pushed payload again (Idempotency-Key)' : 'ingested pushed payload',
  );
  return answer;
}

/** The answer of a stored push: the store's counts, and every refused event by its place in the body. */
function pushResult(
  stored: StoreResult,
  refusedBeforeStore: readonly PushRejection[],
  eventIndex: ReadonlyMap<string, readonly number[]>,
  pricing: { costInferred: number; unpriced: number },
): PushResult {
  const rejections = [...refusedBeforeStore];
  // The unstorable events of a key are its first ones in the body: once one of them is kept, the rest are
  // repeats of it (shared/ingest/prepare-rows.ts). So the n-th letter of a key is its n-th place.
  const taken = new Map<string, number>();
  for (const letter of stored.unstorable) {
    const key = letter.eventKey ?? letter.idempotencyKey;
    const n = taken.get(key) ?? 0;
    taken.set(key, n + 1);
    const index = eventIndex.get(key)?.[n] ?? 0;
    rejections.push({ index, code: letter.reasonCode, reason: letter.reason });
  }
  rejections.sort((a, b) => a.index - b.index);
  const conflicts = stored.conflicts.map((letter) => ({
    id: conflictId(letter.idempotencyKey),
    code: letter.reasonCode,
    reason: letter.reason,
  }));
  return {
    stored: stored.stored,
    duplicates: stored.duplicates,
    conflictingDuplicates: stored.conflictingDuplicates,
    rejected: stored.rejected,
    rejections,
    conflicts,
    costInferred: pricing.costInferred,
    unpriced: pricing.unpriced,
  };
}
