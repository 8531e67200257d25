// @aws-sdk/client-s3 against the real S3 gateway (versitygw, scripts/services up), with the settings
// the archive code uses: path-style addressing, checksums only when an operation requires them.
import { createHash, randomBytes } from 'node:crypto';
import type { ExecutionContext } from 'ava';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { requireService, serviceTest } from '../helpers/services.ts';

const test = serviceTest('s3');

const MiB = 1024 * 1024;

function s3Client(): { s3: S3Client; bucket: string } {
  const cfg = requireService('s3');
  if (!cfg) throw new Error('s3 is not configured');
  const s3 = new S3Client({
    endpoint: cfg.endpoint,
    region: cfg.region,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey },
  });
  return { s3, bucket: cfg.bucket };
}

/** A key prefix no other run or test uses. */
function runPrefix(): string {
  return `it/s3-roundtrip/${Date.now()}-${randomBytes(6).toString('hex')}/`;
}

const md5 = (data: Uint8Array) => createHash('md5').update(data).digest('hex');
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

async function getBytes(s3: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!res.Body) throw new Error(`no body for ${key}`);
  return res.Body.transformToByteArray();
}

async function isMissing(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return false;
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404) return true;
    throw err;
  }
}

/** Best-effort removal of everything under `prefix` when the test ends. */
function cleanUp(t: ExecutionContext, s3: S3Client, bucket: string, prefix: string): void {
  t.teardown(async () => {
    for (const key of await listKeys(s3, bucket, prefix).catch(() => [])) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
    }
    s3.destroy();
  });
}

test('put, head, get, list and delete objects', async (t) => {
  const { s3, bucket } = s3Client();
  const prefix = runPrefix();
  cleanUp(t, s3, bucket, prefix);

  const objects = new Map<string, Buffer>([
    [`${prefix}a.json`, Buffer.from(JSON.stringify({ rows: 3, nonce: randomBytes(8).toString('hex') }))],
    [`${prefix}b/c.csv`, Buffer.from(`metric,value\nlatency_ms,${Math.random()}\n`)],
    [`${prefix}b/d.bin`, randomBytes(64 * 1024)],
  ]);
  for (const [key, body] of objects) {
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: key.endsWith('.json') ? 'application/json' : 'application/octet-stream',
        Metadata: { 'row-count': String(body.length) },
      }),
    );
    t.is(put.ETag, `"${md5(body)}"`, `ETag of ${key} is the MD5 of its body`);
  }

  const jsonKey = `${prefix}a.json`;
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: jsonKey }));
  t.is(head.ContentLength, objects.get(jsonKey)?.length);
  t.is(head.ContentType, 'application/json');
  t.is(head.Metadata?.['row-count'], String(objects.get(jsonKey)?.length));

  for (const [key, body] of objects) {
    t.is(sha256(await getBytes(s3, bucket, key)), sha256(body), `content of ${key} round-trips`);
  }

  t.deepEqual(await listKeys(s3, bucket, prefix), [...objects.keys()].sort());
  const delimited = await s3.send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/' }),
  );
  t.deepEqual(
    (delimited.Contents ?? []).map((o) => o.Key),
    [jsonKey],
  );
  t.deepEqual(
    (delimited.CommonPrefixes ?? []).map((p) => p.Prefix),
    [`${prefix}b/`],
  );

  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: jsonKey }));
  t.true(await isMissing(s3, bucket, jsonKey), 'a deleted object is gone');
  t.deepEqual(await listKeys(s3, bucket, prefix), [`${prefix}b/c.csv`, `${prefix}b/d.bin`]);

  // DeleteObjects: the SDK sends a CRC32 checksum and no Content-MD5 even with WHEN_REQUIRED.
  const batch = await s3.send(
    new DeleteObjectsCommand({
      Bucket: bucket,
      Delete: { Objects: [{ Key: `${prefix}b/c.csv` }, { Key: `${prefix}b/d.bin` }], Quiet: false },
    }),
  );
  t.deepEqual(batch.Errors ?? [], []);
  t.deepEqual((batch.Deleted ?? []).map((d) => d.Key).sort(), [`${prefix}b/c.csv`, `${prefix}b/d.bin`]);
  t.deepEqual(await listKeys(s3, bucket, prefix), []);
});

test('multipart upload of two 5 MiB parts and a tail', async (t) => {
  t.timeout(60_000);
  const { s3, bucket } = s3Client();
  const prefix = runPrefix();
  cleanUp(t, s3, bucket, prefix);
  const key = `${prefix}archive/raw_events-2026-11-28.ndjson.gz`;

  const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(123_457)];
  const whole = Buffer.concat(parts);

  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: 'application/gzip' }),
  );
  t.truthy(UploadId);
  const completed: CompletedPart[] = [];
  for (const [i, body] of parts.entries()) {
    const res = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: body }),
    );
    t.is(res.ETag, `"${md5(body)}"`, `ETag of part ${i + 1}`);
    completed.push({ PartNumber: i + 1, ETag: res.ETag });
  }
  const done = await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: completed },
    }),
  );
  // The S3 multipart ETag: MD5 of the concatenated binary part MD5s, then "-<part count>".
  const multipartEtag = createHash('md5')
    .update(Buffer.concat(parts.map((p) => createHash('md5').update(p).digest())))
    .digest('hex');
  t.is(done.ETag, `"${multipartEtag}-${parts.length}"`);

  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  t.is(head.ContentLength, whole.length);
  t.is(head.ContentType, 'application/gzip');
  t.is(sha256(await getBytes(s3, bucket, key)), sha256(whole), 'the assembled object is the parts in order');

  const ranged = await s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${5 * MiB - 4}-${5 * MiB + 3}` }),
  );
  t.deepEqual(
    Buffer.from(await ranged.Body!.transformToByteArray()),
    whole.subarray(5 * MiB - 4, 5 * MiB + 4),
  );

  const batch = await s3.send(
    new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: key }] } }),
  );
  t.deepEqual(batch.Errors ?? [], []);
  t.true(await isMissing(s3, bucket, key));
});
