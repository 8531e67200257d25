// Secrets (passwords, keys, tokens, DATABASE_URL) never appear in JSON.stringify, inspect or errors.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import test from 'ava';
import { loadConfig, secretKeys, settings } from '../../shared/config/index.ts';
import { BatchError } from '../../shared/errors/index.ts';

const noSecrets = join(tmpdir(), 'hxp-no-such-secrets-dir');

const SECRETS = {
  DATABASE_URL: 'postgres://hxp:Db-Pa55word@db.internal:5432/hxp',
  DATABASE_PASSWORD: 'Other-Db-Pa55',
  S3_ACCESS_KEY_ID: 'AKIA-ACCESS-KEY-ID',
  S3_SECRET_ACCESS_KEY: 'S3-Secret-Access-Key',
  BATCH_PROCESSING_API_TOKEN: 'Api-Token-Value',
  SMTP_PASSWORD: 'Smtp-Pa55word',
};
const leaked = (text: string) =>
  ['Db-Pa55word', ...Object.values(SECRETS).slice(1)].filter((s) => text.includes(s));

test('the secret keys are exactly the passwords, keys, tokens and DATABASE_URL', (t) => {
  t.deepEqual([...secretKeys].sort(), [
    'api.token',
    'database.password',
    'database.url',
    'reports.email.password',
    's3.accessKeyId',
    's3.secretAccessKey',
  ]);
  t.deepEqual(Object.values(SECRETS).length, secretKeys.length);
  for (const key of secretKeys) t.true(Object.hasOwn(SECRETS, settings[key].env), key);
});

test('secrets are readable by name but absent from JSON.stringify, inspect, keys and spread', (t) => {
  const config = loadConfig({ env: SECRETS, secretsDir: noSecrets });
  t.is(config.database.url, SECRETS.DATABASE_URL);
  t.is(config.s3.secretAccessKey, SECRETS.S3_SECRET_ACCESS_KEY);
  t.is(config.api.token, SECRETS.BATCH_PROCESSING_API_TOKEN);
  t.is(config.reports.email.password, SECRETS.SMTP_PASSWORD);

  t.deepEqual(leaked(JSON.stringify(config)), []);
  t.deepEqual(leaked(inspect(config, { depth: Infinity })), []);
  t.deepEqual(leaked(String(inspect(config.database))), []);
  t.deepEqual(leaked(JSON.stringify({ ...config.s3 })), []);
  t.false(Object.keys(config.database).includes('url'));
  t.true(JSON.stringify(config).includes('"poolSize":10'), 'the rest of the config still prints');
});

test('secrets from files are hidden the same way', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hxp-secrets-'));
  writeFileSync(join(dir, 'smtp-password'), 'Smtp-Pa55word\n');
  writeFileSync(join(dir, 'database-url'), `${SECRETS.DATABASE_URL}\n`);
  const config = loadConfig({ env: {}, secretsDir: dir });
  t.is(config.reports.email.password, 'Smtp-Pa55word');
  t.deepEqual(leaked(JSON.stringify(config) + inspect(config, { depth: Infinity })), []);
});

test('invalid secret values are redacted in the error message, context and JSON', (t) => {
  const error = t.throws(
    () =>
      loadConfig({
        env: {
          DATABASE_URL: 'mysql://hxp:Db-Pa55word@db.internal/hxp',
          S3_ACCESS_KEY_ID: 'AKIA-ACCESS-KEY-ID', // without its secret: a cross-key rule fails
          BATCH_PROCESSING_API_PORT: 'x',
        },
        secretsDir: noSecrets,
      }),
    { instanceOf: BatchError },
  );
  const everything = [
    error?.message,
    JSON.stringify(error),
    inspect(error, { depth: Infinity }),
    error?.stack,
  ].join('\n');
  t.deepEqual(leaked(everything), []);
  t.true(everything.includes('DATABASE_URL=<redacted>: not a PostgreSQL URL'));
  t.true(everything.includes('BATCH_PROCESSING_API_PORT="x"'), 'non-secret values are still shown');
});

test('a secret from YAML or a secret file is redacted in errors too', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hxp-secrets-'));
  writeFileSync(join(dir, 'database-url'), 'http://hxp:Db-Pa55word@db.internal/hxp');
  const file = join(dir, 'config.yaml');
  writeFileSync(file, 'database:\n  url: "ftp://u:Db-Pa55word@h/x"\n');
  const fromFile = t.throws(() => loadConfig({ env: {}, secretsDir: dir }), { instanceOf: BatchError });
  t.is(
    fromFile?.message.split('\n')[1],
    `  ${join(dir, 'database-url')}=<redacted>: not a PostgreSQL URL (postgres://user:password@host:5432/database), e.g. "postgres://hxp:password@127.0.0.1:5432/hxp"`,
  );
  const fromYaml = t.throws(() => loadConfig({ env: {}, file, secretsDir: noSecrets }), {
    instanceOf: BatchError,
  });
  t.regex(fromYaml?.message ?? '', /database\.url \(.*config\.yaml\)=<redacted>: not a PostgreSQL URL/);
  t.deepEqual(
    leaked(`${fromFile?.message} ${fromYaml?.message} ${JSON.stringify([fromFile, fromYaml])}`),
    [],
  );
});
