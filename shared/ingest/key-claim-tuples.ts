// The event_keys claims of a batch as COPY rows in PostgreSQL's binary format: (idempotency_key text,
// ts timestamptz). In the text format PostgreSQL parses every timestamp from its ISO text, about a
// microsecond per key on this kind of machine — a third of what a claim costs it besides the index. In
// binary the timestamp is the 8 bytes it is stored as. Rows are bytes at once, off the JS heap, like the
// raw rows' COPY lines, in a CopyBuffer of their own.
import { CopyBuffer, MAX_BYTES_PER_UNIT } from './copy-buffer.ts';

/** Milliseconds from the Unix epoch to PostgreSQL's (2000-01-01T00:00:00Z). */
const PG_EPOCH_MS = 946_684_800_000;
/** Per row: field count (2), two field lengths (4 each), the timestamp (8); the key's bytes come on top. */
const FIXED_ROW_BYTES = 2 + 4 + 4 + 8;
const TWO_32 = 2 ** 32;

/** The binary COPY header: signature, flags (0), header extension length (0). */
const HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
/** The binary COPY trailer: a field count of -1. */
const TRAILER = Buffer.from([0xff, 0xff]);

export class KeyClaimTuples {
  private readonly rows = new CopyBuffer();

  /** One claim: `key` and the event's time in epoch milliseconds (an integer). */
  append(key: string, timestampMs: number): void {
    const buffer = this.rows.reserve(FIXED_ROW_BYTES + key.length * MAX_BYTES_PER_UNIT);
    let at = this.rows.end;
    buffer.writeInt16BE(2, at);
    const keyBytes = buffer.write(key, at + 6, 'utf8');
    buffer.writeInt32BE(keyBytes, at + 2);
    at += 6 + keyBytes;
    buffer.writeInt32BE(8, at);
    // int64 microseconds since 2000-01-01, written as two 32-bit halves (the value is an exact float).
    const micros = (timestampMs - PG_EPOCH_MS) * 1000;
    const high = Math.floor(micros / TWO_32);
    buffer.writeInt32BE(high, at + 4);
    buffer.writeUInt32BE(micros - high * TWO_32, at + 8);
    this.rows.commit(at + 12);
  }

  /** The whole COPY stream: header, every row, trailer. */
  stream(): Buffer[] {
    return [HEADER, ...this.rows.chunks(), TRAILER];
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
