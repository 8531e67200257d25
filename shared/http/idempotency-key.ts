// The Idempotency-Key request header (the IETF httpapi draft, as payment APIs use it): a key the client
// chooses for one request, so that the request sent again after a lost answer gets the first answer back
// instead of doing its work twice. ingest's push and the /reports routes that send e-mail read it here.
import { z } from 'zod';
import { BatchError } from '../errors/index.ts';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const MAX_REQUEST_KEY_LENGTH = 255;

// printable ASCII: a key is an opaque token (a UUID, a hash, "batch-2026-12-07-0042"), and what a header
// can carry without encoding
const PRINTABLE = /^[\x20-\x7e]+$/;

/** The header as the OpenAPI spec describes it; `what` says what a replay answers. */
export function idempotencyKeyHeader(what: string) {
  return z.object({
    [IDEMPOTENCY_KEY_HEADER]: z
      .string()
      .min(1)
      .max(MAX_REQUEST_KEY_LENGTH)
      .regex(PRINTABLE)
      .optional()
      .meta({ description: what }),
  });
}

/** The response header of a replayed answer, as the OpenAPI spec lists it. */
export const REPLAYED_HEADER = {
  'Idempotent-Replayed':
    '"true" when this is the stored answer of an earlier request with the same Idempotency-Key',
};

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

/**
 * The refusal of a key sent before with another request: `differs` says what a request of this route is
 * told apart by, `undone` what did not happen to this one.
 */
export function requestKeyReused(key: string, differs: string, undone: string): BatchError {
  return new BatchError(
    'IDEMPOTENCY_KEY_REUSED',
    `Idempotency-Key "${key}" was sent before with another request (${differs}); ${undone}. A retry sends the same request with the same key; a new request needs a new key`,
    { context: { field: IDEMPOTENCY_KEY_HEADER } },
  );
}
