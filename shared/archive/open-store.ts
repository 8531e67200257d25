// The configured object store: the S3 bucket when s3.bucket is set, else the local archive folder
// (retention.archival.path, relative to the working directory), and the start-up check of the latter.
import type { BatchProcessingConfig } from '../config/index.ts';
import { LocalObjectStore } from './local-store.ts';
import type { ObjectStore } from './object-store.ts';
import { s3SettingsFrom } from './s3-client.ts';
import { S3ObjectStore } from './s3-store.ts';

export function openObjectStore(config: BatchProcessingConfig): ObjectStore {
  const s3 = s3SettingsFrom(config);
  return s3 ? new S3ObjectStore(s3) : new LocalObjectStore(config.retention.archival.path);
}

/**
 * The start-up check of a function that writes the archive (generate-report, retention-sweep): without S3 the
 * local folder must take files — ARCHIVE_NOT_WRITABLE before the function listens, not at its first report
 * or archive (a deployed function's root file system is read-only). With S3 there is nothing to check here.
 */
export async function assertArchiveWritable(config: BatchProcessingConfig): Promise<void> {
  if (s3SettingsFrom(config)) return;
  await new LocalObjectStore(config.retention.archival.path).assertWritable();
}
