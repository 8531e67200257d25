// The structural limits every JSON document from outside is held to (request bodies, pushed events, NDJSON
// lines, Kafka records): how deep it nests, how many keys one object has, how long one string is, and that
// every number is a finite float8. JSON.parse itself takes a 100,000-level array in stride, but every
// recursive walk after it (validation, JSON.stringify) would overflow the stack: the
// walk here is bounded by maxDepth, so it is safe on anything JSON.parse returns, and it is the one place
// those limits live. docs/reliability.md lists them.

/** The limits; fixed, because no legitimate body comes near them and an attacker must not raise them. */
export interface JsonLimits {
  /** Nested arrays/objects; the top value is depth 1. */
  readonly maxDepth: number;
  /** Own keys of one object. */
  readonly maxKeys: number;
  /** UTF-16 code units of one string (keys included). */
  readonly maxStringLength: number;
}

export const JSON_LIMITS: JsonLimits = Object.freeze({
  maxDepth: 64,
  maxKeys: 10_000,
  maxStringLength: 1_048_576,
});

export type JsonLimitName = 'maxDepth' | 'maxKeys' | 'maxStringLength' | 'finiteNumbers' | 'noCycles';

/** The first limit a value breaks: which, where (keys and indexes from the top), and what was found. */
export interface JsonBreach {
  limit: JsonLimitName;
  path: PropertyKey[];
  /** Says what was found and the limit, e.g. "nests more than 64 levels deep (JSON_LIMITS.maxDepth)". */
  found: string;
  /** The offending value for finiteNumbers (NaN, ±Infinity, a bigint); absent otherwise. */
  value?: unknown;
}

function breach(limit: JsonLimitName, found: string, value?: unknown): JsonBreach {
  return value === undefined ? { limit, path: [], found } : { limit, path: [], found, value };
}

function walk(value: unknown, depth: number, limits: JsonLimits, ancestors: object[] | undefined) {
  if (typeof value === 'number') {
    return Number.isFinite(value)
      ? undefined
      : breach(
          'finiteNumbers',
          `is ${String(value)}; numbers must be finite (JSON has no NaN or Infinity, and a literal beyond ±1.8e308 overflows float8)`,
          value,
        );
  }
  if (typeof value === 'string') {
    return value.length <= limits.maxStringLength
      ? undefined
      : breach(
          'maxStringLength',
          `is a string of ${value.length} characters; at most ${limits.maxStringLength} are accepted (JSON_LIMITS.maxStringLength)`,
        );
  }
  if (typeof value === 'bigint')
    return breach('finiteNumbers', `is a bigint (${value}n), which JSON cannot hold`, value);
  if (value === null || typeof value !== 'object') return undefined;
  if (depth > limits.maxDepth) {
    return breach(
      'maxDepth',
      `nests more than ${limits.maxDepth} levels deep; at most ${limits.maxDepth} are accepted (JSON_LIMITS.maxDepth)`,
    );
  }
  if (ancestors !== undefined) {
    if (ancestors.includes(value))
      return breach('noCycles', 'refers back to itself; JSON cannot hold cycles');
    ancestors.push(value);
  }
  let found: JsonBreach | undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && found === undefined; i++) {
      found = walk(value[i], depth + 1, limits, ancestors);
      if (found) found.path.unshift(i);
    }
  } else {
    let keys = 0;
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      if (++keys > limits.maxKeys) {
        found = breach(
          'maxKeys',
          `has more than ${limits.maxKeys} keys; at most ${limits.maxKeys} are accepted (JSON_LIMITS.maxKeys)`,
        );
        break;
      }
      if (key.length > limits.maxStringLength) {
        found = breach(
          'maxStringLength',
          `has a key of ${key.length} characters; at most ${limits.maxStringLength} are accepted (JSON_LIMITS.maxStringLength)`,
        );
        break;
      }
      found = walk((value as Record<string, unknown>)[key], depth + 1, limits, ancestors);
      if (found) {
        found.path.unshift(key);
        break;
      }
    }
  }
  ancestors?.pop();
  return found;
}

/**
 * The first limit `value` breaks, or undefined. Recursion stops at maxDepth, so any JSON.parse output is safe
 * to pass. `detectCycles` is for values that did not come from JSON.parse (a cycle is reported, not looped).
 */
export function jsonBreach(
  value: unknown,
  options: { limits?: JsonLimits; detectCycles?: boolean } = {},
): JsonBreach | undefined {
  return walk(value, 1, options.limits ?? JSON_LIMITS, options.detectCycles ? [] : undefined);
}
