// The fingerprint that binds a push's Idempotency-Key (shared/http/idempotency-key.ts) to what the request
// asked. Events are already stored once by their own identity; the key makes the *answer* repeatable: a
// producer re-sending a request whose answer it lost gets the first answer, with its events counted stored,
// instead of being told they were duplicates.
import { createHash } from 'node:crypto';
import type { ConnectorRecord } from './push.ts';

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
