// Canonical JSON (object keys sorted recursively, no whitespace) and its SHA-256, the content hash behind
// idempotency keys of events that carry neither a Kafka position nor an id.
import { createHash } from 'node:crypto';

function write(value: unknown, out: string[], ancestors: object[]): void {
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
      out.push(JSON.stringify(value));
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new RangeError(`canonicalJson: ${value} has no JSON form`);
      out.push(JSON.stringify(value));
      return;
    case 'object':
      break;
    default:
      throw new TypeError(`canonicalJson: a ${typeof value} has no JSON form`);
  }
  const withToJson = value as { toJSON?: () => unknown };
  if (typeof withToJson.toJSON === 'function') {
    write(withToJson.toJSON(), out, ancestors);
    return;
  }
  if (ancestors.includes(value)) throw new TypeError('canonicalJson: circular reference');
  ancestors.push(value);
  if (Array.isArray(value)) {
    out.push('[');
    value.forEach((item: unknown, i) => {
      if (i > 0) out.push(',');
      write(
        item === undefined || typeof item === 'function' || typeof item === 'symbol' ? null : item,
        out,
        ancestors,
      );
    });
    out.push(']');
  } else {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    out.push('{');
    entries.forEach(([k, v], i) => {
      if (i > 0) out.push(',');
      out.push(JSON.stringify(k), ':');
      write(v, out, ancestors);
    });
    out.push('}');
  }
  ancestors.pop();
}

/**
 * JSON with object keys sorted (by UTF-16 code units) at every depth, no whitespace, and JSON.stringify's
 * rules otherwise (toJSON honoured, undefined/function properties dropped, in arrays written as null).
 * Throws for non-finite numbers, bigints and cycles, which have no unambiguous JSON form.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, out, []);
  return out.join('');
}

/** Lower-case hex SHA-256 of canonicalJson(value): equal for values that differ only in key order. */
export function eventHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex');
}
