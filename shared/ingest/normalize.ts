// Input → normalised events or dead letters, for both ingest paths. Validation itself is shared/events';
// this module only supplies the context (idempotency key, fallback timestamps, limits) and turns
// rejections into dead letters carrying the original bytes.
import { createHash } from 'node:crypto';
import {
  type ArchivedDays,
  normalizeEvent,
  parseBatch,
  type NormalizeContext,
  type NormalizeLimits,
  type Rejection,
} from '../events/index.ts';
import type { PriceTable } from '../pricing/table.ts';
import type { DeadLetter, IngestEvent } from './types.ts';

export interface NormalizeSettings {
  /** Defaults: 64 KiB per event, 256 fields, 300 s future skew, 30 days raw retention (the config defaults). */
  limits?: Partial<NormalizeLimits> | undefined;
  /** String fields of data aggregated as dimensions (default ['model']). */
  dimensionKeys?: readonly string[] | undefined;
  /** Model prices for the cost inference of llm_request events (pricing.*); absent = none. */
  prices?: PriceTable | undefined;
  /** Receive time; injectable for tests. */
  now?: (() => number) | undefined;
  /** Days archived and removed by retention; their events become dead letters (EVENT_DAY_ARCHIVED). */
  archivedDays?: ArchivedDays | undefined;
}

export type Normalized = { ok: true; event: IngestEvent } | { ok: false; letter: DeadLetter };

export const DEFAULT_LIMITS: NormalizeLimits = Object.freeze({
  maxEventBytes: 64 * 1024,
  maxFields: 256,
  maxFutureSkewMs: 300_000,
  rawRetentionDays: 30,
});

function limitsOf(settings: NormalizeSettings): NormalizeLimits {
  return { ...DEFAULT_LIMITS, ...settings.limits };
}

function reasonOf(r: Rejection): string {
  return r.field === undefined ? r.reason : `${r.reason} [field ${r.field}]`;
}

export interface KafkaRecordInput {
  topic: string;
  partition: number;
  offset: string;
  /** Record timestamp, milliseconds since the epoch as kafkajs gives it; absent for connector pushes. */
  timestamp: string | undefined;
  value: Buffer | null;
}

/** What the events of one batch are checked against; the receive time is read now. */
export function batchContext(settings: NormalizeSettings): NormalizeContext {
  return {
    receivedAt: new Date((settings.now ?? Date.now)()),
    limits: limitsOf(settings),
    dimensionKeys: settings.dimensionKeys,
    archivedDays: settings.archivedDays,
    prices: settings.prices,
  };
}

/** `topic:partition:offset` — the key of a Kafka record on both the pull and the connector path. */
export function kafkaRecordKey(topic: string, partition: number, offset: string): string {
  return `${topic}:${partition}:${offset}`;
}

export function normalizeKafkaRecord(record: KafkaRecordInput, settings: NormalizeSettings): Normalized {
  return kafkaRecordNormalizer(settings)(record);
}

/**
 * normalizeKafkaRecord for a whole fetched batch: the limits and the receive time (one per batch, read when
 * the normaliser is made) are worked out once instead of per record.
 */
export function kafkaRecordNormalizer(
  settings: NormalizeSettings,
  context: NormalizeContext = batchContext(settings),
): (record: KafkaRecordInput) => Normalized {
  const { receivedAt, limits, dimensionKeys, archivedDays, prices } = context;
  return (record) => {
    const key = kafkaRecordKey(record.topic, record.partition, record.offset);
    const value = record.value ?? Buffer.alloc(0);
    const recordMs = record.timestamp === undefined ? Number.NaN : Number(record.timestamp);
    const result = normalizeEvent(value, {
      receivedAt,
      recordTimestamp: Number.isFinite(recordMs) && recordMs >= 0 ? recordMs : undefined,
      idempotencyKey: key,
      limits,
      dimensionKeys,
      archivedDays,
      prices,
    });
    if (result.ok) {
      const event: IngestEvent = result.event;
      event.kafka = { topic: record.topic, partition: record.partition, offset: record.offset };
      event.original = () => value;
      return { ok: true, event };
    }
    return {
      ok: false,
      letter: {
        origin: 'kafka',
        idempotencyKey: key,
        reasonCode: result.rejection.code,
        reason: reasonOf(result.rejection),
        payload: value,
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
      },
    };
  };
}

/**
 * One result per event of the body (one event, a JSON array, or NDJSON), in body order. A refused event's
 * dead letter keeps its own bytes as they came (parseBatch's `bytes`), never a re-serialisation of its value.
 */
export function normalizeHttpBody(
  body: string | Buffer,
  settings: NormalizeSettings,
  contentType?: string,
): Normalized[] {
  const context = batchContext(settings);
  return parseBatch(body, contentType).map((item): Normalized => {
    if (!item.ok) return { ok: false, letter: httpLetter(item.bytes(), item.rejection) };
    const result = normalizeEvent(item.raw, context);
    if (result.ok) {
      const event: IngestEvent = result.event;
      event.original = item.bytes;
      return { ok: true, event };
    }
    return { ok: false, letter: httpLetter(item.bytes(), result.rejection) };
  });
}

/** A pushed bad event has no offset; its bytes identify it, so re-sending it lands one dead letter. */
export function httpLetterKey(payload: Buffer): string {
  return `http:${createHash('sha256').update(payload).digest('hex')}`;
}

function httpLetter(payload: Buffer, r: Rejection): DeadLetter {
  return {
    origin: 'http',
    idempotencyKey: httpLetterKey(payload),
    reasonCode: r.code,
    reason: reasonOf(r),
    payload,
  };
}
