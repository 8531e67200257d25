// The local archive folder that cannot be written (a deployed function's read-only root, no permission, a
// file in its path) is ARCHIVE_NOT_WRITABLE naming what to set, at start-up (assertWritable) and at a write.
// Real folders throughout; as root, where chmod 555 stops nothing, the read-only folder is tried by a child
// process running as nobody, and a path under a regular file fails for root too.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import test from 'ava';
import { assertArchiveWritable, LocalObjectStore } from '../../shared/archive/index.ts';
import { parseConfig } from '../../shared/config/index.ts';
import { isBatchError } from '../../shared/errors/index.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const NOBODY = 65534;

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'hxp-archive-writable-'));
}

function assertFixMessage(t: { regex(s: string, r: RegExp): void }, message: string, path: string): void {
  t.regex(message, new RegExp(`local archive folder ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `));
  t.regex(message, /Set S3_BUCKET/);
  t.regex(message, /writable volume at BATCH_PROCESSING_ARCHIVAL_PATH/);
}

test('a folder under a regular file: ARCHIVE_NOT_WRITABLE at start-up and at the first write, as root too', async (t) => {
  const dir = scratch();
  writeFileSync(join(dir, 'a-file'), 'not a folder');
  const root = join(dir, 'a-file', 'archive');
  const store = new LocalObjectStore(root);
  const atStart = await t.throwsAsync(store.assertWritable());
  t.true(isBatchError(atStart, 'ARCHIVE_NOT_WRITABLE'), String(atStart));
  t.deepEqual((atStart as { context?: unknown }).context, { path: root, errno: 'ENOTDIR' });
  assertFixMessage(t, atStart!.message, root);
  const atPut = await t.throwsAsync(store.put('reports/2026/r.json', new Uint8Array([1])));
  t.true(isBatchError(atPut, 'ARCHIVE_NOT_WRITABLE'), String(atPut));
  t.false(isBatchError(atPut) && atPut.retriable, 'the same write fails again until the deployment changes');
});

test('a regular file where the folder belongs: ARCHIVE_NOT_WRITABLE', async (t) => {
  const root = join(scratch(), 'archive');
  writeFileSync(root, 'not a folder');
  const err = await t.throwsAsync(new LocalObjectStore(root).assertWritable());
  t.true(isBatchError(err, 'ARCHIVE_NOT_WRITABLE'), String(err));
});

test('a writable folder passes the check, is created, and keeps no probe file', async (t) => {
  const root = join(scratch(), 'new', 'archive');
  const store = new LocalObjectStore(root);
  await t.notThrowsAsync(store.assertWritable());
  t.true(existsSync(root));
  t.deepEqual(readdirSync(root), []);
  t.deepEqual(await store.list(''), []);
});

test('the start-up check looks at the folder only without S3', async (t) => {
  const dir = scratch();
  writeFileSync(join(dir, 'a-file'), '');
  const path = join(dir, 'a-file', 'archive');
  const local = parseConfig({ retention: { archival: { path } } });
  const err = await t.throwsAsync(assertArchiveWritable(local));
  t.true(isBatchError(err, 'ARCHIVE_NOT_WRITABLE'), String(err));
  const s3 = parseConfig({ retention: { archival: { path } }, s3: { bucket: 'hxp-archive' } });
  await t.notThrowsAsync(assertArchiveWritable(s3), 'with a bucket the folder is never written');
});

test('a read-only folder (chmod 555): ARCHIVE_NOT_WRITABLE at start-up and at the first write', (t) => {
  const dir = scratch();
  const readOnly = join(dir, 'read-only');
  writeFileSync(join(dir, 'probe.mts'), PROBE);
  // the folder exists and is read-only; the archive is the folder itself and one inside it
  mkdirSync(readOnly);
  chmodSync(readOnly, 0o555);
  chmodSync(dir, 0o755);
  const asRoot = process.getuid?.() === 0;
  // root writes into a 555 folder whatever its mode: the same check then runs as nobody, to whom it is read-only
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(dir, 'probe.mts'), readOnly], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  t.is(result.status, 0, result.stderr);
  const seen = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
  t.deepEqual(seen, {
    folder: { code: 'ARCHIVE_NOT_WRITABLE', errno: 'EACCES' },
    inside: { code: 'ARCHIVE_NOT_WRITABLE', errno: 'EACCES' },
    put: { code: 'ARCHIVE_NOT_WRITABLE', errno: 'EACCES' },
    fixNamed: true,
  });
});

/** Tries the store on a folder (argv[2]) and prints what each step threw, as JSON. */
const PROBE = `
import { join } from 'node:path';
import { LocalObjectStore } from '${join(ROOT, 'shared/archive/index.ts')}';
const folder = process.argv[2];
const seen = (err) => ({ code: err?.code, errno: err?.context?.errno });
const out = {};
let message = '';
await new LocalObjectStore(folder).assertWritable().then(() => (out.folder = 'written'), (e) => { out.folder = seen(e); message = e.message; });
await new LocalObjectStore(join(folder, 'archive')).assertWritable().then(() => (out.inside = 'written'), (e) => (out.inside = seen(e)));
await new LocalObjectStore(folder).put('reports/r.json', new Uint8Array([1])).then(() => (out.put = 'written'), (e) => (out.put = seen(e)));
out.fixNamed = message.includes('S3_BUCKET') && message.includes('BATCH_PROCESSING_ARCHIVAL_PATH');
console.log(JSON.stringify(out));
`;
