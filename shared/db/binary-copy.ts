// PostgreSQL's binary COPY format: its frame and the fields of the types we send and read. A stream is a
// header (signature, int32 flags, int32-sized extension), tuples and a trailer; a tuple is an int16 field
// count and its fields; a field is an int32 byte length (-1: NULL) and the value in its type's binary
// (send/recv) form. PostgreSQL reads a field in this form without parsing text — no timestamp, float or
// array literal to take apart, which in the text format is a good part of what a raw row costs it.
// Ingest writes raw rows and key claims in it (shared/ingest); the retention sweep reads raw days out in it
// (binary-copy-decoder.ts decodes the stream).
// The writers put values into a Buffer at a position and return where they end; the caller reserves room
// first (a CopyBuffer's reserve()), so none of them checks bounds.

export const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Signature, flags (0), header extension length (0). */
const HEADER = Buffer.concat([SIGNATURE, Buffer.alloc(8)]);
/** A field count of -1. */
const TRAILER = Buffer.from([0xff, 0xff]);

/** Rows (as chunks of bytes) framed as a whole COPY stream. */
export function copyStream(rows: readonly Buffer[]): Buffer[] {
  return [HEADER, ...rows, TRAILER];
}

/** Milliseconds from the Unix epoch to PostgreSQL's (2000-01-01T00:00:00Z). */
const PG_EPOCH_MS = 946_684_800_000;
const PG_EPOCH_US = PG_EPOCH_MS * 1000;
const TWO_32 = 2 ** 32;
/** pg_type OIDs of array elements: an array value names its element type, which must be the column's. */
const TEXT_OID = 25;
const FLOAT8_OID = 701;
/** Strings up to this long are copied by a loop while they are ASCII; a native write costs more for them. */
const SHORT_TEXT = 48;

/** Bytes a field of `units` UTF-16 code units may take at most: its length and three bytes a unit (UTF-8). */
export function maxTextFieldBytes(units: number): number {
  return 4 + 3 * units;
}

/** Bytes of a one-dimensional array's header, before its first element. */
export const FLAT_ARRAY_HEADER = 20;
/** Bytes an array field takes besides its elements: its length and a one-dimensional array's header. */
export const ARRAY_FIELD_OVERHEAD = 4 + FLAT_ARRAY_HEADER;
/** Bytes a timestamptz or float8 value takes with its length. */
export const EIGHT_BYTE_FIELD = 4 + 8;

export function putInt16(buffer: Buffer, at: number, value: number): number {
  buffer[at] = value >>> 8;
  buffer[at + 1] = value;
  return at + 2;
}

/** Writes a 32-bit integer big-endian; signed or unsigned, as its low 32 bits. */
export function putInt32(buffer: Buffer, at: number, value: number): number {
  buffer[at] = value >>> 24;
  buffer[at + 1] = value >>> 16;
  buffer[at + 2] = value >>> 8;
  buffer[at + 3] = value;
  return at + 4;
}

/** A timestamptz field: int64 microseconds since PostgreSQL's epoch, from epoch milliseconds (an integer). */
export function putTimestampField(buffer: Buffer, at: number, epochMs: number): number {
  putInt32(buffer, at, 8);
  // The microseconds are an exact float (well below 2^53), written as two 32-bit halves.
  const micros = (epochMs - PG_EPOCH_MS) * 1000;
  const high = Math.floor(micros / TWO_32);
  putInt32(buffer, at + 4, high);
  return putInt32(buffer, at + 8, micros - high * TWO_32);
}

/** A text field: the string as UTF-8 after its byte length. */
export function putTextField(buffer: Buffer, at: number, value: string): number {
  const start = at + 4;
  let end = start;
  const units = value.length;
  if (units <= SHORT_TEXT) {
    for (let i = 0; i < units; i++) {
      const unit = value.charCodeAt(i);
      if (unit >= 0x80) {
        end = -1;
        break;
      }
      buffer[end++] = unit;
    }
  }
  if (units > SHORT_TEXT || end < 0) end = start + buffer.write(value, start, 'utf8');
  putInt32(buffer, at, end - start);
  return end;
}

/** An int8 field from a safe integer (a count): two 32-bit halves, as the timestamp's. */
export function putInt8Field(buffer: Buffer, at: number, value: number): number {
  putInt32(buffer, at, 8);
  const high = Math.floor(value / TWO_32);
  putInt32(buffer, at + 4, high);
  return putInt32(buffer, at + 8, value - high * TWO_32);
}

/** A float8 field: the double's 8 bytes, -0 and all. */
export function putFloat8Field(buffer: Buffer, at: number, value: number): number {
  putInt32(buffer, at, 8);
  return buffer.writeDoubleBE(value, at + 4);
}

/** A bytea field: the bytes after their length. */
export function putByteaField(buffer: Buffer, at: number, bytes: Buffer): number {
  putInt32(buffer, at, bytes.length);
  return at + 4 + bytes.copy(buffer, at + 4);
}

/** numeric's sign words (NUMERIC_POS, NUMERIC_NEG). */
const NUMERIC_POS = 0x0000;
const NUMERIC_NEG = 0x4000;
const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/** Bytes a numeric field of decimal text `units` long may take at most: header and a base-10,000 digit per 4. */
export function maxNumericFieldBytes(units: number): number {
  return 4 + 8 + 2 * (Math.ceil(units / 4) + 2);
}

/**
 * A numeric field from plain decimal text (`-?digits(.digits)?`, as exact sums are written): numeric_send's
 * form — digit count, weight, sign and display scale, then base-10,000 digits aligned on the decimal point,
 * leading and trailing zero digits left out (zero has none). The scale is the text's, as numeric_in keeps it.
 */
export function putNumericField(buffer: Buffer, at: number, text: string): number {
  const parts = DECIMAL.exec(text);
  if (parts === null) throw new RangeError(`putNumericField: "${text}" is not plain decimal text`);
  const whole = parts[2]!;
  const fraction = parts[3] ?? '';
  // the digits padded to whole groups of four on both sides of the point
  const head = (4 - (whole.length % 4)) % 4;
  const digits = '0'.repeat(head) + whole + fraction + '0'.repeat((4 - (fraction.length % 4)) % 4);
  let first = 0;
  let last = digits.length / 4; // exclusive, in groups
  const group = (g: number): number => Number(digits.slice(4 * g, 4 * g + 4));
  while (first < last && group(first) === 0) first++;
  while (last > first && group(last - 1) === 0) last--;
  const count = last - first;
  const weight = count === 0 ? 0 : (head + whole.length) / 4 - 1 - first;
  let end = putInt16(buffer, at + 4, count);
  end = putInt16(buffer, end, weight & 0xffff);
  end = putInt16(buffer, end, parts[1] === '-' && count > 0 ? NUMERIC_NEG : NUMERIC_POS);
  end = putInt16(buffer, end, fraction.length);
  for (let g = first; g < last; g++) end = putInt16(buffer, end, group(g));
  putInt32(buffer, at, end - at - 4);
  return end;
}

/** A jsonb field: format version 1, then the JSON text (PostgreSQL parses it, as from text). */
export function putJsonbField(buffer: Buffer, at: number, json: string): number {
  buffer[at + 4] = 1;
  const end = at + 5 + buffer.write(json, at + 5, 'utf8');
  putInt32(buffer, at, end - at - 4);
  return end;
}

/** An array's header: one dimension of `count` from 1, no nulls; an empty array has no dimension. */
function putArrayHeader(buffer: Buffer, at: number, elementOid: number, count: number): number {
  putInt32(buffer, at, count === 0 ? 0 : 1);
  putInt32(buffer, at + 4, 0);
  putInt32(buffer, at + 8, elementOid);
  if (count === 0) return at + 12;
  putInt32(buffer, at + 12, count);
  return putInt32(buffer, at + 16, 1);
}

/** A text[] field. */
export function putTextArrayField(buffer: Buffer, at: number, values: readonly string[]): number {
  let end = putArrayHeader(buffer, at + 4, TEXT_OID, values.length);
  for (let i = 0; i < values.length; i++) end = putTextField(buffer, end, values[i] as string);
  putInt32(buffer, at, end - at - 4);
  return end;
}

/**
 * A float8[] field. Values given as text are numbers in JSON's form, read with Number(): like float8in,
 * it rounds a decimal to the nearest double, so the stored value is the one the text form would store.
 */
export function putFloat8ArrayField(
  buffer: Buffer,
  at: number,
  values: readonly number[] | readonly string[],
): number {
  let end = putArrayHeader(buffer, at + 4, FLOAT8_OID, values.length);
  for (let i = 0; i < values.length; i++) {
    end = putInt32(buffer, end, 8);
    end = buffer.writeDoubleBE(Number(values[i]), end);
  }
  putInt32(buffer, at, end - at - 4);
  return end;
}

/**
 * The element count of the binary array at `at` (after its field length) when it is one-dimensional without
 * NULLs, or empty — raw_events' arrays, whose elements then start at `at` + FLAT_ARRAY_HEADER — else
 * undefined. The header: ndim, has-null flag, element type, and per dimension its size and lower bound.
 */
export function flatArrayCount(buffer: Buffer, at: number): number | undefined {
  const dimensions = buffer.readInt32BE(at);
  if (dimensions === 0) return 0;
  if (dimensions !== 1 || buffer.readInt32BE(at + 4) !== 0) return undefined;
  return buffer.readInt32BE(at + 12);
}

/** A timestamptz value (its 8 bytes at `at`) as epoch microseconds. */
export function readTimestampMicros(buffer: Buffer, at: number): number {
  return buffer.readInt32BE(at) * TWO_32 + buffer.readUInt32BE(at + 4) + PG_EPOCH_US;
}

/** Reads one tuple's fields in order (for the rare look at a row already rendered, and for tests). */
export class CopyFieldReader {
  constructor(
    private readonly buffer: Buffer,
    private at = 0,
  ) {}

  fieldCount(): number {
    const count = this.buffer.readInt16BE(this.at);
    this.at += 2;
    return count;
  }

  private length(): number {
    const length = this.buffer.readInt32BE(this.at);
    this.at += 4;
    if (length < 0) throw new RangeError('CopyFieldReader: a NULL field where a value was expected');
    return length;
  }

  timestampMs(): number {
    this.length();
    this.at += 8;
    return readTimestampMicros(this.buffer, this.at - 8) / 1000;
  }

  text(): string {
    const length = this.length();
    this.at += length;
    return this.buffer.toString('utf8', this.at - length, this.at);
  }

  jsonb(): string {
    const length = this.length();
    this.at += length;
    return this.buffer.toString('utf8', this.at - length + 1, this.at);
  }

  private arrayCount(elementOid: number): number {
    this.length();
    const dimensions = this.buffer.readInt32BE(this.at);
    const oid = this.buffer.readInt32BE(this.at + 8);
    if (oid !== elementOid) throw new RangeError(`CopyFieldReader: array of type ${oid}, not ${elementOid}`);
    this.at += 12;
    if (dimensions === 0) return 0;
    const count = this.buffer.readInt32BE(this.at);
    this.at += 8;
    return count;
  }

  textArray(): string[] {
    const count = this.arrayCount(TEXT_OID);
    return Array.from({ length: count }, () => this.text());
  }

  float8Array(): number[] {
    const count = this.arrayCount(FLOAT8_OID);
    return Array.from({ length: count }, () => {
      this.length();
      this.at += 8;
      return this.buffer.readDoubleBE(this.at - 8);
    });
  }
}
