// Where reports and archives are kept: an S3 bucket (MinIO, AWS S3, versitygw, …) when s3.* is configured,
// else a local folder (the embedded default). Both speak this one interface, keyed by '/'-separated paths
// such as `reports/daily_summary/2026-11-28/daily_summary-2026-11-28.pdf`.
//
// Every object is written whole and checked: `put` sends the body's SHA-256 so the server refuses a
// corrupted upload, and records it so `head` can give it back. A reader that needs certainty reads the
// object back and hashes it (the retention sweep does).
import type { Readable } from 'node:stream';

export interface StoredObject {
  key: string;
  size: number;
  /** Hex SHA-256 of the content, when the store knows it (always for objects written by `put`). */
  sha256?: string;
  lastModified?: Date;
}

export interface PutOptions {
  contentType?: string;
}

export interface ObjectStore {
  readonly kind: 's3' | 'local';
  /** Human-readable root, e.g. `s3://hxp-batch` or `file:///var/lib/hxp/archive`. */
  readonly location: string;
  /** Writes `body` under `key` (replacing any object there) with its SHA-256; returns what was stored. */
  put(key: string, body: Uint8Array, options?: PutOptions): Promise<StoredObject & { sha256: string }>;
  /** The whole object; NOT_FOUND when there is none. */
  get(key: string): Promise<Buffer>;
  /** The object as a stream (downloads of large files); NOT_FOUND when there is none. */
  stream(key: string): Promise<Readable>;
  /** Size and checksum of an object, or undefined when there is none. */
  head(key: string): Promise<StoredObject | undefined>;
  /** Every object under `prefix`, in key order. */
  list(prefix: string): Promise<StoredObject[]>;
  /** Removes the objects; keys that do not exist are ignored. */
  delete(keys: readonly string[]): Promise<void>;
  /** A URL a mail reader can fetch the object from for `seconds`; undefined where the store has none. */
  presign(key: string, seconds: number): Promise<string | undefined>;
}
