// The event_keys claims of a batch as rows of a binary COPY (shared/db/binary-copy.ts): (idempotency_key text,
// ts timestamptz). Rows are bytes at once, off the JS heap, like the raw rows, in a CopyBuffer of their own.
import {
  copyStream,
  EIGHT_BYTE_FIELD,
  maxTextFieldBytes,
  putInt16,
  putTextField,
  putTimestampField,
} from '../db/binary-copy.ts';
import { CopyBuffer } from './copy-buffer.ts';

export class KeyClaimTuples {
  private readonly rows = new CopyBuffer();

  /** One claim: `key` and the event's time in epoch milliseconds (an integer). */
  append(key: string, timestampMs: number): void {
    const buffer = this.rows.reserve(2 + maxTextFieldBytes(key.length) + EIGHT_BYTE_FIELD);
    const at = putTextField(buffer, putInt16(buffer, this.rows.end, 2), key);
    this.rows.commit(putTimestampField(buffer, at, timestampMs));
  }

  /** The whole COPY stream: header, every row, trailer. */
  stream(): Buffer[] {
    return copyStream(this.rows.chunks());
  }
}

/** KeyClaimTuples of `claims`, for a batch whose claims were not rendered as it was prepared. */
export function keyClaimTuples(
  claims: Iterable<{ idempotencyKey: string; timestampMs: number }>,
): KeyClaimTuples {
  const tuples = new KeyClaimTuples();
  for (const claim of claims) tuples.append(claim.idempotencyKey, claim.timestampMs);
  return tuples;
}
