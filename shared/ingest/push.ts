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
import { retriedTransaction } from './retry.ts';
import { storeEvents } from './store.ts';
import type { DeadLetter, IngestEvent, IngestLogger } from './types.ts';

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

export async function ingestPayload(deps: PushDeps, request: PushRequest): Promise<PushResult> {
  const record = connectorRecord(request.headers);
  const body = typeof request.body === 'string' ? Buffer.from(request.body) : request.body;
  const settings: PushDeps = deps.archivedDays
    ? deps
    : { ...deps, archivedDays: new ArchivedDays(await archivedRawDays(deps.db)) };
  const normalized: Normalized[] = record
    ? [normalizeKafkaRecord({ ...record, timestamp: undefined, value: body }, settings)]
    : normalizeHttpBody(body, settings, header(request.headers, 'Content-Type'));

  const events: IngestEvent[] = [];
  const letters: DeadLetter[] = [];
  const rejections: PushRejection[] = [];
  const eventIndex = new Map<string, number>();
  let costInferred = 0;
  let unpriced = 0;
  normalized.forEach((result, index) => {
    if (result.ok) {
      events.push(result.event);
      if (result.event.cost === 'inferred') costInferred += 1;
      else if (result.event.cost === 'unpriced') unpriced += 1;
      eventIndex.set(result.event.idempotencyKey, index);
    } else {
      letters.push(result.letter);
      rejections.push({ index, code: result.letter.reasonCode, reason: result.letter.reason });
    }
  });
  const origin = record ? 'kafka' : 'http';
  const result = await retriedTransaction(() =>
    deps.db.transaction((client) =>
      storeEvents(client, events, letters, { embedded: deps.db.embedded, origin }),
    ),
  );
  const { stored, duplicates, conflictingDuplicates, rejected, unstorable } = result;
  for (const letter of unstorable) {
    const index = eventIndex.get(letter.idempotencyKey) ?? 0;
    rejections.push({ index, code: letter.reasonCode, reason: letter.reason });
  }
  rejections.sort((a, b) => a.index - b.index);
  if (deps.metrics) {
    recordIngest(deps.metrics, record ? 'connector' : 'http', {
      stored,
      duplicates,
      conflictingDuplicates,
      rejectedReasons: rejections.map((r) => r.code),
    });
  }
  const conflicts = result.conflicts.map((letter) => ({
    id: conflictId(letter.idempotencyKey),
    code: letter.reasonCode,
    reason: letter.reason,
  }));
  deps.log?.debug(
    { stored, duplicates, conflictingDuplicates, rejected, connector: record !== undefined },
    'ingested pushed payload',
  );
  return {
    stored,
    duplicates,
    conflictingDuplicates,
    rejected,
    rejections,
    conflicts,
    costInferred,
    unpriced,
  };
}
