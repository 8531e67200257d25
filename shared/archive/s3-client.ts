// The one place an S3 client is configured: path-style addressing (MinIO, versitygw) and checksums only
// where an operation requires them (servers other than AWS reject the SDK's default CRC32 on some calls).
import { S3Client } from '@aws-sdk/client-s3';
import type { BatchProcessingConfig } from '../config/index.ts';

export interface S3Settings {
  endpoint?: string | undefined;
  region: string;
  bucket: string;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  forcePathStyle?: boolean;
  /** SDK attempts per call (default 3); a probe uses 1. */
  maxAttempts?: number;
  /** Keys live under `<prefix>/` in the bucket (s3.prefix); unset = the bucket root. */
  prefix?: string | undefined;
}

export function createS3Client(settings: S3Settings): S3Client {
  return new S3Client({
    region: settings.region,
    forcePathStyle: settings.forcePathStyle ?? true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: settings.maxAttempts ?? 3,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.accessKeyId && settings.secretAccessKey
      ? { credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey } }
      : {}),
  });
}

/** The S3 settings of the configuration, or undefined when no bucket is configured (→ the local folder). */
export function s3SettingsFrom(config: BatchProcessingConfig): S3Settings | undefined {
  const { s3 } = config;
  if (!s3.bucket) return undefined;
  return {
    endpoint: s3.endpoint,
    region: s3.region,
    bucket: s3.bucket,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    forcePathStyle: s3.forcePathStyle,
    prefix: s3.prefix,
  };
}
