// PostgreSQL text and jsonb cannot hold NUL, and jsonb refuses unpaired UTF-16 surrogates. An event
// carrying either would fail its whole batch forever, so the store turns it into a dead letter instead.

import { fieldPath } from '../json/path.ts';
import { preview } from '../events/rejection.ts';

// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const NUL_OR_SURROGATE = /[\u0000\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function badString(value: string): boolean {
  // Fast path: almost every string has neither; paired surrogates (emoji) are well formed.
  return NUL_OR_SURROGATE.test(value) && (value.includes('\u0000') || LONE_SURROGATE.test(value));
}

function badValue(value: unknown, depth: number): boolean {
  return badField(value, ['data'], depth) !== undefined;
}

/** Where a bad string is: the field's path, and whether the string is the field's name rather than its value. */
interface BadField {
  path: readonly PropertyKey[];
  text: string;
  isName: boolean;
}

function badField(value: unknown, path: PropertyKey[], depth: number): BadField | undefined {
  if (typeof value === 'string') return badString(value) ? { path, text: value, isName: false } : undefined;
  if (value === null || typeof value !== 'object' || depth > 64) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = badField(value[i], [...path, i], depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const [k, v] of Object.entries(value)) {
    if (badString(k)) return { path: [...path, k], text: k, isName: true };
    const found = badField(v, [...path, k], depth + 1);
    if (found) return found;
  }
  return undefined;
}

// The reason names the field and shows the value, as every other refusal does; JSON.stringify shows NUL as
// \u0000 and a lone surrogate as \udXXX, so the reason itself holds neither.
function describe(found: BadField | undefined): string {
  if (found === undefined) {
    return 'event holds a NUL character or an unpaired UTF-16 surrogate, which PostgreSQL text and jsonb cannot store; remove it at the producer';
  }
  const what = found.text.includes('\u0000') ? 'a NUL character (U+0000)' : 'an unpaired UTF-16 surrogate';
  const field = JSON.stringify(fieldPath(found.path));
  const where = found.isName ? `the name of event field ${field}` : `event field ${field}`;
  const shown = found.isName ? '' : `: ${preview(found.text)}`;
  return `${where} holds ${what}, which PostgreSQL text and jsonb cannot store${shown}; remove it at the producer`;
}

// JSON.stringify writes NUL as \u0000 and a lone surrogate as \udXXX; a match may also be an escaped
// backslash followed by such text, so a hit is confirmed by walking the value.
const JSON_SUSPECT = /\\u(?:0000|d[89a-f])/i;

/** Why this event cannot be stored as is, or undefined when it can. `dataJson` is JSON.stringify(event.data). */
export function unstorableReason(
  event: {
    eventType: string;
    source: string;
    id?: string | undefined;
    idempotencyKey: string;
    metricNames: readonly string[];
    dimensionNames: readonly string[];
    dimensionValues: readonly string[];
    data: unknown;
  },
  dataJson: string,
): string | undefined {
  const strings = [
    event.eventType,
    event.source,
    event.idempotencyKey,
    ...event.metricNames,
    ...event.dimensionNames,
    ...event.dimensionValues,
  ];
  if (strings.some(badString) || (JSON_SUSPECT.test(dataJson) && badValue(event.data, 0))) {
    return describe(firstBadField(event));
  }
  return undefined;
}

/** Looked for only once an event is known to be unstorable: the envelope's fields, then data's. */
function firstBadField(event: { eventType: string; source: string; id?: string | undefined; data: unknown }) {
  for (const [name, text] of [
    ['event_type', event.eventType],
    ['source', event.source],
    ['id', event.id],
  ] as const) {
    if (text !== undefined && badString(text)) return { path: [name], text, isName: false };
  }
  return badField(event.data, ['data'], 0);
}
