// A conflicting duplicate: an event whose id was stored before with other content. The first stays (it may
// already be aggregated, reported and billed); the later one is not stored but lands in dead_letters with
// both events, so the producer bug behind it is seen rather than silently resolved either way.
import type { ErrorCode } from '../errors/index.ts';
import { canonicalJson, eventHash } from '../events/index.ts';
import type { Conflict } from './duplicates-sql.ts';
import type { DeadLetter, KafkaRecordRef } from './types.ts';

export const CONFLICT_CODE = 'EVENT_CONFLICTING_DUPLICATE' satisfies ErrorCode;

export interface ConflictingEvent {
  id: string;
  kafka: KafkaRecordRef | undefined;
  /** contentText() of the refused event. */
  content: string;
}

interface Content {
  event_type: string;
  source: string;
  ts: string | null;
  data: Record<string, unknown>;
}

const MAX_NAMED = 8;

/** The fields that differ, e.g. ["source", "data.cost_usd"]. */
export function differingFields(kept: Conflict['kept'], other: Content): string[] {
  const out: string[] = [];
  if (kept.event_type !== other.event_type) out.push('event_type');
  if (kept.source !== other.source) out.push('source');
  if (other.ts !== null && Date.parse(kept.timestamp) !== Date.parse(other.ts)) out.push('timestamp');
  const keptData = (kept.data ?? {}) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(keptData), ...Object.keys(other.data)])].sort();
  for (const key of keys) {
    const a = keptData[key];
    const b = other.data[key];
    // jsonb compares numbers by value: 1 and 1.0 are the same here too.
    const same =
      typeof a === 'number' && typeof b === 'number'
        ? a === b
        : a !== undefined && b !== undefined && canonicalJson(a) === canonicalJson(b);
    if (!same) out.push(`data.${key}`);
  }
  return out;
}

const KEY_PREFIX = 'conflict:';

/** The event id a conflict letter's key names (`conflict:<id>:<hash>`). */
export function conflictId(letterKey: string): string {
  return letterKey.slice(KEY_PREFIX.length, letterKey.lastIndexOf(':'));
}

export function conflictLetter(
  origin: DeadLetter['origin'],
  event: ConflictingEvent,
  kept: Conflict['kept'],
): DeadLetter {
  const content = JSON.parse(event.content) as Content;
  const conflicting = {
    event_type: content.event_type,
    ...(content.ts === null ? {} : { timestamp: content.ts }),
    source: content.source,
    id: event.id,
    data: content.data,
  };
  const fields = differingFields(kept, content);
  const named =
    fields.length > MAX_NAMED
      ? `${fields.slice(0, MAX_NAMED).join(', ')} and ${fields.length - MAX_NAMED} more`
      : fields.join(', ');
  return {
    origin,
    // One letter per distinct conflicting event: a redelivery of the same one lands once.
    idempotencyKey: `${KEY_PREFIX}${event.id}:${eventHash(conflicting)}`,
    reasonCode: CONFLICT_CODE,
    reason:
      `event id ${JSON.stringify(event.id)} was stored before with other content (differs in ${named || 'form'}); ` +
      'the first is kept and this one is not stored — an id must name one event: give a changed event a new id',
    payload: Buffer.from(JSON.stringify({ kept: { ...kept, id: event.id }, conflicting })),
    topic: event.kafka?.topic,
    partition: event.kafka?.partition,
    offset: event.kafka?.offset,
  };
}

/**
 * The conflicting event of a conflict letter's payload, as JSON bytes: what a replay offers again (the wrapper
 * itself is no event). Undefined when the payload is not such a wrapper.
 */
export function conflictingEventBytes(payload: Buffer): Buffer | undefined {
  let wrapper: unknown;
  try {
    wrapper = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  const conflicting =
    typeof wrapper === 'object' && wrapper !== null && 'conflicting' in wrapper
      ? wrapper.conflicting
      : undefined;
  // Written by conflictLetter from JSON-parsed content, so stringifying it again gives the same event.
  return typeof conflicting === 'object' && conflicting !== null
    ? Buffer.from(JSON.stringify(conflicting))
    : undefined;
}
