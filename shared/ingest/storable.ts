// PostgreSQL text and jsonb cannot hold NUL, and jsonb refuses unpaired UTF-16 surrogates. An event
// carrying either would fail its whole batch forever, so the store turns it into a dead letter instead.

// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const NUL_OR_SURROGATE = /[\u0000\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function badString(value: string): boolean {
  // Fast path: almost every string has neither; paired surrogates (emoji) are well formed.
  return NUL_OR_SURROGATE.test(value) && (value.includes('\u0000') || LONE_SURROGATE.test(value));
}

function badValue(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return badString(value);
  if (value === null || typeof value !== 'object' || depth > 64) return false;
  if (Array.isArray(value)) return value.some((v) => badValue(v, depth + 1));
  for (const [k, v] of Object.entries(value)) {
    if (badString(k) || badValue(v, depth + 1)) return true;
  }
  return false;
}

// JSON.stringify writes NUL as \u0000 and a lone surrogate as \udXXX; a match may also be an escaped
// backslash followed by such text, so a hit is confirmed by walking the value.
const JSON_SUSPECT = /\\u(?:0000|d[89a-f])/i;

/** Why this event cannot be stored as is, or undefined when it can. `dataJson` is JSON.stringify(event.data). */
export function unstorableReason(
  event: {
    eventType: string;
    source: string;
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
    return 'event holds a NUL character or an unpaired UTF-16 surrogate, which PostgreSQL text and jsonb cannot store; remove it at the producer';
  }
  return undefined;
}
