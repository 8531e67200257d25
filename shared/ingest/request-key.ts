// The Idempotency-Key of a push request (the header of the IETF httpapi draft, as payment APIs use it) and
// the fingerprint that binds the key to what the request asked. Events are already stored once by their own
// identity; the key makes the *answer* repeatable: a producer re-sending a request whose answer it lost gets
// the first answer, with its events counted stored, instead of being told they were duplicates.
import { createHash } from 'node:crypto';
import { BatchError } from '../errors/index.ts';
import type { ConnectorRecord } from './push.ts';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const MAX_REQUEST_KEY_LENGTH = 255;

// printable ASCII: a key is an opaque token (a UUID, a hash, "batch-2026-12-07-0042"), and what a header
// can carry without encoding
const PRINTABLE = /^[\x20-\x7e]+$/;

/**
 * The request key, or undefined when the header is absent. The draft writes it as a structured-field
 * string (`"8e03978e-…"`); the quotes are not part of the key, so either spelling names the same key.
 */
export function requestKeyOf(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let key = raw.trim();
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) key = key.slice(1, -1);
  if (key.length === 0) throw invalidKey('is empty; leave the header out or send a key', raw);
  if (key.length > MAX_REQUEST_KEY_LENGTH) {
    throw invalidKey(
      `is ${key.length} characters long; at most ${MAX_REQUEST_KEY_LENGTH} are kept`,
      `${key.slice(0, 40)}…`,
    );
  }
  if (!PRINTABLE.test(key))
    throw invalidKey('holds a character outside printable ASCII', JSON.stringify(key));
  return key;
}

function invalidKey(why: string, value: string): BatchError {
  return new BatchError('REQUEST_INVALID', `the Idempotency-Key header ${why} (got ${value})`, {
    context: { field: 'Idempotency-Key' },
  });
}

/** sha256 of everything that decides what a push stores: the body, how it is read, the connector record. */
export function requestFingerprint(
  body: Buffer,
  contentType: string | undefined,
  record: ConnectorRecord | undefined,
): Buffer {
  const framing = JSON.stringify([
    contentType ?? null,
    record ? [record.topic, record.partition, record.offset] : null,
  ]);
  return createHash('sha256').update(framing).update('\n').update(body).digest();
}
