import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import test from 'ava';
import { loadConfig } from '../../shared/config/index.ts';
import { isBatchError } from '../../shared/errors/index.ts';
import {
  recordedRuntime,
  recordRuntime,
  runtimeDataDirs,
  withArchiveFolder,
} from '../../runtime/data-dir.ts';

const ARCHIVE_ENV = 'BATCH_PROCESSING_ARCHIVAL_PATH';

test('the data folder holds the database in pglite/ and the archive in archive/; ./.data by default', (t) => {
  t.deepEqual(runtimeDataDirs('/srv/hxp'), {
    root: '/srv/hxp',
    pglite: '/srv/hxp/pglite',
    archive: '/srv/hxp/archive',
  });
  t.deepEqual(runtimeDataDirs(), {
    root: resolve('.data'),
    pglite: resolve('.data/pglite'),
    archive: resolve('.data/archive'),
  });
});

test('a database folder given as the data folder is refused, saying where it belongs', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hxp-data-dir-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'PG_VERSION'), '17\n');
  const err = t.throws(() => runtimeDataDirs(dir));
  t.true(isBatchError(err, 'CONFIG_INVALID'));
  t.regex(err!.message, /is an embedded database folder/);
  t.true(err!.message.includes(`move this one to ${join(dir, 'pglite')}`));
  const pglite = join(dir, 'pglite');
  mkdirSync(pglite);
  writeFileSync(join(pglite, 'PG_VERSION'), '17\n');
  t.regex(t.throws(() => runtimeDataDirs(pglite))!.message, new RegExp(`give its parent, ${dir}\\)`));
});

test('the archive follows the data folder unless the configuration names one', (t) => {
  const env = withArchiveFolder({ PATH: '/bin' }, '/srv/hxp/archive');
  t.is(env[ARCHIVE_ENV], '/srv/hxp/archive');
  t.is(
    loadConfig({ env, file: null, secretsDir: '/nonexistent' }).retention.archival.path,
    '/srv/hxp/archive',
  );
  // an empty variable is no setting (as everywhere in the configuration)
  t.is(withArchiveFolder({ [ARCHIVE_ENV]: ' ' }, '/a')[ARCHIVE_ENV], '/a');
});

test('an archive path from the environment or the config file wins over the data folder', (t) => {
  t.is(withArchiveFolder({ [ARCHIVE_ENV]: '/mnt/archive' }, '/srv/hxp/archive')[ARCHIVE_ENV], '/mnt/archive');

  const dir = mkdtempSync(join(tmpdir(), 'hxp-data-dir-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.yml');
  writeFileSync(file, 'batch_processing:\n  retention:\n    archival:\n      path: /mnt/yaml-archive\n');
  const fromFile = withArchiveFolder({ CONFIG_FILE: file, SECRETS_DIR: join(dir, 'none') }, '/srv/a');
  t.is(fromFile[ARCHIVE_ENV], undefined);
  t.is(loadConfig({ env: fromFile }).retention.archival.path, '/mnt/yaml-archive');
});

test('a runtime records its API in its data folder; only the process holding the database is believed', async (t) => {
  const dirs = runtimeDataDirs(mkdtempSync(join(tmpdir(), 'hxp-data-dir-')));
  t.teardown(() => rmSync(dirs.root, { recursive: true, force: true }));
  t.is(recordedRuntime(dirs, process.pid), undefined);
  const forget = await recordRuntime(dirs, 'http://127.0.0.1:19101');
  t.deepEqual(recordedRuntime(dirs, process.pid), { pid: process.pid, apiUrl: 'http://127.0.0.1:19101' });
  // a record left by a runtime that died names a pid other than the lock's holder
  t.is(recordedRuntime(dirs, process.pid + 1), undefined);
  await forget();
  t.false(existsSync(join(dirs.root, 'runtime.json')));
  writeFileSync(join(dirs.root, 'runtime.json'), '{"pid": 1, "apiUrl"');
  t.is(recordedRuntime(dirs, 1), undefined);
});
