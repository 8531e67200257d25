// One contract, two stores: the local folder (always) and S3 on the real gateway (versitygw).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import {
  LocalObjectStore,
  openObjectStore,
  S3ObjectStore,
  type ObjectStore,
} from '../../shared/archive/index.ts';
import { loadConfig } from '../../shared/config/index.ts';
import { BatchError } from '../../shared/errors/index.ts';
import { ownS3Prefix } from '../helpers/s3-prefix.ts';
import { requireService, serviceTest } from '../helpers/services.ts';

const s3Test = serviceTest('s3');

async function localStore(t: ExecutionContext): Promise<{ store: ObjectStore; prefix: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'hxp-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return { store: new LocalObjectStore(dir), prefix: 'it/' };
}

function s3Store(t: ExecutionContext): { store: ObjectStore; prefix: string } {
  const store = new S3ObjectStore(requireService('s3')!);
  t.teardown(() => store.destroy());
  return { store, prefix: `${ownS3Prefix(t, 'object-store')}/` };
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function contract(t: ExecutionContext, { store, prefix }: { store: ObjectStore; prefix: string }) {
  const body = randomBytes(300_000);
  const key = `${prefix}reports/daily_summary/2026-11-28/daily_summary-2026-11-28.pdf`;
  const put = await store.put(key, body, { contentType: 'application/pdf' });
  t.is(put.sha256, sha(body));
  t.is(put.size, body.length);

  t.deepEqual(await store.get(key), body);
  const streamed: Buffer[] = [];
  for await (const chunk of await store.stream(key)) streamed.push(chunk as Buffer);
  t.deepEqual(Buffer.concat(streamed), body);
  t.like(await store.head(key), { key, size: body.length, sha256: sha(body) });

  // replacing an object keeps one object with the new content
  const next = Buffer.from('second version');
  await store.put(key, next);
  t.deepEqual(await store.get(key), next);

  await store.put(`${prefix}raw/date=2026-10-01/part-0000.parquet`, Buffer.from('a'));
  await store.put(`${prefix}raw/date=2026-10-01/manifest.json`, Buffer.from('{}'));
  await store.put(`${prefix}raw/date=2026-10-02/part-0000.parquet`, Buffer.from('b'));
  t.deepEqual(
    (await store.list(`${prefix}raw/date=2026-10-01/`)).map((o) => o.key),
    [`${prefix}raw/date=2026-10-01/manifest.json`, `${prefix}raw/date=2026-10-01/part-0000.parquet`],
  );
  t.is((await store.list(`${prefix}raw/`)).length, 3);
  t.is((await store.list(`${prefix}nothing/`)).length, 0);

  await store.delete([`${prefix}raw/date=2026-10-01/part-0000.parquet`, `${prefix}does/not/exist`]);
  t.is(await store.head(`${prefix}raw/date=2026-10-01/part-0000.parquet`), undefined);
  const missing = await t.throwsAsync(store.get(`${prefix}raw/date=2026-10-01/part-0000.parquet`), {
    instanceOf: BatchError,
  });
  t.is(missing.code, 'NOT_FOUND');
  await t.throwsAsync(store.stream(`${prefix}nope`), { instanceOf: BatchError, message: /no object/ });

  for (const bad of ['../escape', '/abs', 'a//b', 'a/./b', 'spaces here', '']) {
    const err = await t.throwsAsync(store.put(bad, Buffer.from('x')), { instanceOf: BatchError });
    t.is(err.code, 'REQUEST_INVALID', bad);
  }
}

test('local folder store: put/get/stream/head/list/delete, keys checked', async (t) => {
  const local = await localStore(t);
  await contract(t, local);
  t.is(await local.store.presign('it/x', 60), undefined);
});

test('local folder store: an interrupted put leaves no visible object', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hxp-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = new LocalObjectStore(dir);
  await store.put('a/b.json', Buffer.from('{}'));
  // what a crash between write and rename leaves behind
  await writeFile(join(dir, 'a', 'c.json.tmp-0123456789ab'), 'half');
  t.deepEqual(
    (await store.list('a/')).map((o) => o.key),
    ['a/b.json'],
  );
  t.true((await readdir(join(dir, 'a'))).length === 2);
});

s3Test(
  'S3 store (versitygw): the same contract, and a presigned URL that downloads the object',
  async (t) => {
    const s3 = s3Store(t);
    await contract(t, s3);
    const key = `${s3.prefix}presigned.txt`;
    await s3.store.put(key, Buffer.from('hello from s3'), { contentType: 'text/plain' });
    const url = await s3.store.presign(key, 60);
    t.truthy(url);
    const res = await fetch(url!);
    t.is(res.status, 200);
    t.is(await res.text(), 'hello from s3');
  },
);

s3Test('S3 store: an unreachable endpoint is S3_UNAVAILABLE (retriable), not a crash', async (t) => {
  const cfg = requireService('s3')!;
  const store = new S3ObjectStore({ ...cfg, endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
  t.teardown(() => store.destroy());
  const err = await t.throwsAsync(store.put('it/unreachable.txt', Buffer.from('x')), {
    instanceOf: BatchError,
  });
  t.is(err.code, 'S3_UNAVAILABLE');
  t.true(err.retriable);
});

s3Test('S3 store with s3.prefix: the same contract under the prefix, which callers never see', async (t) => {
  const cfg = requireService('s3')!;
  const prefix = ownS3Prefix(t, 'prefixed');
  const config = loadConfig({
    env: {
      S3_ENDPOINT: cfg.endpoint,
      S3_BUCKET: cfg.bucket,
      S3_ACCESS_KEY_ID: cfg.accessKeyId,
      S3_SECRET_ACCESS_KEY: cfg.secretAccessKey,
      S3_PREFIX: prefix,
    },
    file: null,
    secretsDir: '/nonexistent',
  });
  const store = openObjectStore(config) as S3ObjectStore;
  const root = new S3ObjectStore(cfg);
  t.teardown(() => {
    store.destroy();
    root.destroy();
  });
  t.is(store.location, `s3://${cfg.bucket}/${prefix}`);
  await contract(t, { store, prefix: '' });
  await store.put('extra/date=2026-10-01/manifest.json', Buffer.from('{}'));
  t.deepEqual(
    (await store.list('extra/')).map((o) => o.key),
    ['extra/date=2026-10-01/manifest.json'],
  );
  t.deepEqual(
    (await root.list(`${prefix}/extra/`)).map((o) => o.key),
    [`${prefix}/extra/date=2026-10-01/manifest.json`],
  );
  const url = await store.presign('extra/date=2026-10-01/manifest.json', 60);
  t.is(await (await fetch(url)).text(), '{}');
  const bad = t.throws(() =>
    loadConfig({
      env: { S3_BUCKET: cfg.bucket, S3_PREFIX: '/leading/slash' },
      file: null,
      secretsDir: '/nonexistent',
    }),
  );
  t.regex(bad?.message ?? '', /S3_PREFIX="\/leading\/slash": not a key prefix/);
});
