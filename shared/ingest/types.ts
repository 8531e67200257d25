// Shapes the ingest layer shares between its store, pull and push paths.

/** What the store needs of an event: the fields of shared/events' NormalizedEvent. */
export interface IngestEvent {
  /** `id:<id>` for an event with an id; else its Kafka coordinates or content hash (shared/events). */
  idempotencyKey: string;
  /**
   * The event's own id. An event with an id is claimed by it in event_keys on every path, so a second
   * arrival by Kafka, the connector or HTTP is a duplicate; one with other content is a conflicting one.
   */
  id?: string | undefined;
  /** Where `timestamp` came from; a fallback (Kafka record, receive time) is not compared between arrivals. */
  timestampSource?: 'event' | 'record' | 'received' | undefined;
  eventType: string;
  timestamp: Date | string | number;
  source: string;
  metricNames: readonly string[];
  metricValues: readonly number[];
  dimensionNames: readonly string[];
  dimensionValues: readonly string[];
  data: unknown;
  /**
   * The Kafka record the event came from (pull, or a connector push). It is claimed by offset
   * (kafka-claims-sql.ts) as well; without an id, only so — its `idempotencyKey` is then
   * topic:partition:offset.
   */
  kafka?: KafkaRecordRef | undefined;
  /** What the price table did: cost_usd inferred, or tokens without a price (shared/pricing). */
  cost?: 'inferred' | 'unpriced' | undefined;
  /**
   * The bytes the event came as (a Kafka record's value, a pushed item's own text), which its dead letter
   * keeps if PostgreSQL cannot store it; found only then. Absent: the letter keeps the JSON of `data`.
   */
  original?: (() => Buffer) | undefined;
}

export interface KafkaRecordRef {
  topic: string;
  partition: number;
  /** Decimal, as kafkajs gives it. */
  offset: string;
}

/** A rejected input on its way to `dead_letters`; `idempotencyKey` makes a redelivery land once. */
export interface DeadLetter {
  origin: 'kafka' | 'http';
  idempotencyKey: string;
  /** The key of the event it refused, when the record was read as one (kept in memory, not stored). */
  eventKey?: string | undefined;
  /** EVENT_* from shared/events, or INGEST_* from this module. */
  reasonCode: string;
  reason: string;
  /** The original bytes as received. */
  payload: Buffer;
  topic?: string | undefined;
  partition?: number | undefined;
  offset?: string | number | undefined;
}

export interface StoreResult {
  /** Events newly written to raw_events. */
  stored: number;
  /** Events whose idempotency key was already known (earlier batch or earlier in this batch). */
  duplicates: number;
  /**
   * The duplicates whose id was known with other content: the first is kept and each lands in dead_letters
   * as EVENT_CONFLICTING_DUPLICATE with both payloads (`conflicts`).
   */
  conflictingDuplicates: number;
  /** Rejections handed in (each lands in dead_letters at most once). */
  rejected: number;
  /** Dead letters the store itself added: events PostgreSQL cannot hold (NUL, lone surrogates). */
  unstorable: DeadLetter[];
  /** Dead letters of the conflicting duplicates. */
  conflicts: DeadLetter[];
}

/** The logging surface the ingest layer uses; a pino logger fits it. */
export interface IngestLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: IngestLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
