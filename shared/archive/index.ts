export { checkedKey, checkedPrefix } from './keys.ts';
export { LocalObjectStore } from './local-store.ts';
export type { ObjectStore, PutOptions, StoredObject } from './object-store.ts';
export { assertArchiveWritable, openObjectStore } from './open-store.ts';
export { createS3Client, s3SettingsFrom, type S3Settings } from './s3-client.ts';
export { S3ObjectStore } from './s3-store.ts';
