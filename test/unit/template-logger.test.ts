// The template's logger takes its level from the loaded configuration, so logging.level of CONFIG_FILE
// counts as LOG_LEVEL does, and a level the configuration refuses stops the start instead of becoming info.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { parseConfig } from '../../shared/config/index.ts';
import { isBatchError } from '../../shared/errors/index.ts';
import { initFunction } from '../../shared/function-context.ts';
import { startupLogger } from '../../templates/node20-ts/main.ts';
import type { HandlerModule } from '../../templates/node20-ts/types.ts';

const noSecrets = join(tmpdir(), 'hxp-no-such-secrets-dir');
const handler = () => ({ ok: true });

function configFile(t: { teardown(fn: () => void): void }, level: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'hxp-template-logger-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, `logging:\n  level: ${level}\n`);
  return file;
}

test('without an init, the template loads the configuration: logging.level of CONFIG_FILE applies', async (t) => {
  const env = { CONFIG_FILE: configFile(t, 'debug'), SECRETS_DIR: noSecrets };
  const logger = await startupLogger({ default: handler }, 'f', env);
  t.is(logger.level, 'debug');
  t.is((await startupLogger({ default: handler }, 'f', { ...env, LOG_LEVEL: 'error' })).level, 'error');
});

test.serial("a function's init (initFunction) hands the template the configuration it loaded", async (t) => {
  const saved = process.env;
  t.teardown(() => {
    process.env = saved;
  });
  process.env = {
    ...saved,
    LOG_LEVEL: '',
    CONFIG_FILE: configFile(t, 'warn'),
    SECRETS_DIR: noSecrets,
    DATABASE_URL: 'postgres://hxp@127.0.0.1:1/hxp',
  };
  const logger = await startupLogger({ default: handler, init: initFunction }, 'ingest');
  t.is(logger.level, 'warn');
});

test('a configuration init returns is used as it is, not loaded a second time', async (t) => {
  const module: HandlerModule = { default: handler, init: () => parseConfig({ log: { level: 'trace' } }) };
  // an environment a second load would refuse
  const logger = await startupLogger(module, 'f', { LOG_LEVEL: 'loud', SECRETS_DIR: noSecrets });
  t.is(logger.level, 'trace');
});

test('an unknown level is refused by the configuration, not started at info', async (t) => {
  const err = await t.throwsAsync(
    startupLogger({ default: handler }, 'f', { LOG_LEVEL: 'loud', SECRETS_DIR: noSecrets }),
  );
  t.true(isBatchError(err, 'CONFIG_INVALID'));
  t.regex(err!.message, /LOG_LEVEL="loud"/);
  const fromFile = await t.throwsAsync(
    startupLogger({ default: handler }, 'f', {
      CONFIG_FILE: configFile(t, 'chatty'),
      SECRETS_DIR: noSecrets,
    }),
  );
  t.true(isBatchError(fromFile, 'CONFIG_INVALID'));
  t.regex(fromFile!.message, /chatty/);
});
