// ObjectStore on an S3 bucket. Uploads carry x-amz-checksum-sha256, so the server verifies the bytes it
// received, and the hex digest as metadata, so head() can report it without reading the object. With a
// prefix (s3.prefix) every key lives under `<prefix>/` in the bucket; callers never see the prefix.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { BatchError } from '../errors/index.ts';
import { checkedKey, checkedPrefix } from './keys.ts';
import type { ObjectStore, PutOptions, StoredObject } from './object-store.ts';
import { createS3Client, type S3Settings } from './s3-client.ts';

interface SdkError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

function httpStatus(err: unknown): number | undefined {
  return (err as SdkError | undefined)?.$metadata?.httpStatusCode;
}

function isMissing(err: unknown): boolean {
  const e = err as SdkError | undefined;
  return httpStatus(err) === 404 || e?.name === 'NoSuchKey' || e?.name === 'NotFound';
}

/** S3 failures in catalogue terms: a missing object is NOT_FOUND; no answer or a 5xx is S3_UNAVAILABLE. */
function s3Error(err: unknown, op: string, bucket: string, key: string): BatchError {
  if (isMissing(err)) {
    return new BatchError('NOT_FOUND', `no object ${key} in s3://${bucket}`, { context: { bucket, key } });
  }
  const status = httpStatus(err);
  const unreachable = status === undefined || status >= 500;
  const name = (err as SdkError | undefined)?.name ?? 'Error';
  return new BatchError(
    unreachable ? 'S3_UNAVAILABLE' : 'INTERNAL',
    `S3 ${op} of ${key} in ${bucket} failed: ${name}${status ? ` (HTTP ${status})` : ''}`,
    { context: { bucket, key, op, status }, cause: err, retriable: unreachable },
  );
}

export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  readonly location: string;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(settings: S3Settings, client: S3Client = createS3Client(settings)) {
    this.#client = client;
    this.#bucket = settings.bucket;
    this.#prefix = settings.prefix ? `${checkedKey(settings.prefix)}/` : '';
    this.location = `s3://${settings.bucket}${settings.prefix ? `/${settings.prefix}` : ''}`;
  }

  /** The bucket key of a store key. */
  #key(key: string): string {
    return this.#prefix + checkedKey(key);
  }

  async #call<T>(op: string, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw s3Error(err, op, this.#bucket, key);
    }
  }

  async put(key: string, body: Uint8Array, options: PutOptions = {}) {
    const Key = this.#key(key);
    const digest = createHash('sha256').update(body).digest();
    const sha256 = digest.toString('hex');
    await this.#call('PutObject', key, () =>
      this.#client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key,
          Body: body,
          ContentLength: body.byteLength,
          ChecksumSHA256: digest.toString('base64'),
          Metadata: { sha256 },
          ...(options.contentType ? { ContentType: options.contentType } : {}),
        }),
      ),
    );
    return { key, size: body.byteLength, sha256 };
  }

  async get(key: string): Promise<Buffer> {
    const Key = this.#key(key);
    return this.#call('GetObject', key, async () => {
      const res = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key }));
      return Buffer.from(await res.Body!.transformToByteArray());
    });
  }

  async stream(key: string): Promise<Readable> {
    const Key = this.#key(key);
    return this.#call('GetObject', key, async () => {
      const res = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key }));
      return res.Body as Readable;
    });
  }

  async head(key: string): Promise<StoredObject | undefined> {
    const Key = this.#key(key);
    try {
      const res = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key }));
      const sha256 = res.Metadata?.sha256;
      return {
        key,
        size: res.ContentLength ?? 0,
        ...(sha256 ? { sha256 } : {}),
        ...(res.LastModified ? { lastModified: res.LastModified } : {}),
      };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw s3Error(err, 'HeadObject', this.#bucket, key);
    }
  }

  async list(prefix: string): Promise<StoredObject[]> {
    checkedPrefix(prefix);
    const found: StoredObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.#call('ListObjectsV2', prefix, () =>
        this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: this.#prefix + prefix,
            ContinuationToken: token,
          }),
        ),
      );
      for (const o of page.Contents ?? []) {
        if (!o.Key?.startsWith(this.#prefix)) continue;
        found.push({
          key: o.Key.slice(this.#prefix.length),
          size: o.Size ?? 0,
          ...(o.LastModified ? { lastModified: o.LastModified } : {}),
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(keys: readonly string[]): Promise<void> {
    const bucketKeys = keys.map((key) => this.#key(key));
    // DeleteObjects takes at most 1000 keys per call.
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = bucketKeys.slice(i, i + 1000);
      const res = await this.#call('DeleteObjects', batch[0]!, () =>
        this.#client.send(
          new DeleteObjectsCommand({
            Bucket: this.#bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        ),
      );
      const failed = (res.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length > 0) {
        throw new BatchError('S3_UNAVAILABLE', `S3 refused to delete ${failed.length} object(s)`, {
          context: { bucket: this.#bucket, keys: failed.slice(0, 5).map((e) => `${e.Key}: ${e.Code}`) },
        });
      }
    }
  }

  async presign(key: string, seconds: number): Promise<string> {
    return getSignedUrl(this.#client, new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }), {
      expiresIn: seconds,
    });
  }

  destroy(): void {
    this.#client.destroy();
  }
}
