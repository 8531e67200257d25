// The configured object store: the S3 bucket when s3.bucket is set, else the local archive folder
// (retention.archival.path, relative to the working directory).
import type { BatchProcessingConfig } from '../config/index.ts';
import { LocalObjectStore } from './local-store.ts';
import type { ObjectStore } from './object-store.ts';
import { s3SettingsFrom } from './s3-client.ts';
import { S3ObjectStore } from './s3-store.ts';

export function openObjectStore(config: BatchProcessingConfig): ObjectStore {
  const s3 = s3SettingsFrom(config);
  return s3 ? new S3ObjectStore(s3) : new LocalObjectStore(config.retention.archival.path);
}
