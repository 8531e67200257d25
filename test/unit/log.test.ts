import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { loadConfig } from '../../shared/config/index.ts';
import { BatchError } from '../../shared/errors/index.ts';
import { createLogger, isSecretKey, scrubText } from '../../shared/log/index.ts';

const noSecrets = join(tmpdir(), 'hxp-no-such-secrets-dir');

function capture(): {
  lines: string[];
  records: () => Record<string, unknown>[];
  write: (s: string) => void;
} {
  const lines: string[] = [];
  return {
    lines,
    write: (s) => lines.push(s),
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const SECRETS = {
  DATABASE_URL: 'postgres://hxp:Db-Pa55word@db.internal:5432/hxp',
  S3_ACCESS_KEY_ID: 'AKIA-ACCESS-KEY-ID',
  S3_SECRET_ACCESS_KEY: 'S3-Secret-Access-Key',
  BATCH_PROCESSING_API_TOKEN: 'Api-Token-Value',
  SMTP_PASSWORD: 'Smtp-Pa55word',
};
const secretStrings = [
  'Db-Pa55word',
  'AKIA-ACCESS-KEY-ID',
  'S3-Secret-Access-Key',
  'Api-Token-Value',
  'Smtp-Pa55word',
];

test('the level comes from the config or from {level}; bindings are on every line', (t) => {
  const out = capture();
  const config = loadConfig({ env: { LOG_LEVEL: 'warn' }, secretsDir: noSecrets });
  const log = createLogger(config, { fn: 'aggregate-hourly' }, out);
  log.info('hidden');
  log.warn({ window: '2026-11-28T10:00Z' }, 'shown');
  t.deepEqual(
    out.records().map((r) => [r.level, r.msg, r.fn, r.window]),
    [['warn', 'shown', 'aggregate-hourly', '2026-11-28T10:00Z']],
  );
  const debug = capture();
  createLogger({ level: 'debug' }, {}, debug).debug('d');
  t.is(debug.records()[0]?.msg, 'd');
  t.regex(String(debug.records()[0]?.time), /^\d{4}-\d\d-\d\dT/);
});

test('configured secrets never reach the log output, whatever way they are logged', (t) => {
  const out = capture();
  const config = loadConfig({ env: SECRETS, secretsDir: noSecrets });
  const log = createLogger(config, { token: config.api.token }, out);
  log.info({ config }, 'config loaded');
  log.info({ database: { url: config.database.url } }, 'connecting to %s', config.database.url);
  log.info({
    s3: { ...config.s3, secretAccessKey: config.s3.secretAccessKey, accessKeyId: config.s3.accessKeyId },
  });
  log.info({ req: { headers: { authorization: `Bearer ${config.api.token}`, host: 'x' } } }, 'request');
  log.info(`token is ${config.api.token}, smtp ${config.reports.email.password}`);
  log.error(
    new BatchError('DB_CONNECT_FAILED', `cannot reach ${config.database.url}`, {
      context: { password: 'Smtp-Pa55word', target: 'db.internal' },
      cause: new Error(`auth failed for ${config.database.url}`),
    }),
  );
  const text = out.lines.join('');
  t.deepEqual(
    secretStrings.filter((s) => text.includes(s)),
    [],
  );
  t.true(text.includes('db.internal'), 'the host of DATABASE_URL stays readable');
  t.true(text.includes('[Redacted]'));
  t.is(out.lines.length, 6);
});

test('secret-named keys are censored at any depth without touching look-alikes such as tokens_in', (t) => {
  const out = capture();
  const event = {
    data: { tokens_in: 350, tokens_out: 120, max_tokens: 4 },
    auth: { nested: { apiToken: 'abc123' } },
  };
  createLogger({ level: 'info' }, {}, out).info({
    event,
    password: 'hunter22',
    smtp_password: 'x',
    Authorization: 'y',
  });
  const record = out.records()[0] as Record<string, unknown>;
  t.deepEqual(record.event, {
    data: { tokens_in: 350, tokens_out: 120, max_tokens: 4 },
    auth: { nested: { apiToken: '[Redacted]' } },
  });
  t.is(record.password, '[Redacted]');
  t.is(record.smtp_password, '[Redacted]');
  t.is(record.Authorization, '[Redacted]');
  t.is(event.auth.nested.apiToken, 'abc123', 'the logged object itself is not modified');
});

test('URL passwords, password= pairs and Bearer tokens are censored in any text, without a config', (t) => {
  const out = capture();
  const log = createLogger({ level: 'info' }, {}, out);
  log.info('DATABASE_URL=postgres://user:s3cr3t-pw@pg:5432/db');
  log.info({ dsn: 'host=pg password=kv-s3cret user=u' }, 'libpq');
  log.info({ header: 'Bearer eyJhbGciOi.payload.sig' }, 'h');
  log.error(new Error('connect to amqp://guest:guest-pw@rabbit failed'));
  const text = out.lines.join('');
  for (const secret of ['s3cr3t-pw', 'kv-s3cret', 'eyJhbGciOi', 'guest-pw'])
    t.false(text.includes(secret), secret);
  t.true(text.includes('postgres://user:[Redacted]@pg:5432/db'));
});

test('secret-named query parameters are censored in a logged path; other parameters stay readable', (t) => {
  // The template server logs every request's path with its query (request completed, function error):
  // GET /health?token=… logged the token whole when it was not the configured one.
  const out = capture();
  const log = createLogger({ level: 'info' }, {}, out);
  log.info(
    {
      path: '/health?token=qs-tok-1&tokens_in=5&api_key=qs-key-2&X-Amz-Signature=qs-sig-3&X-Amz-Credential=AKIA%2Fqs-cred-4&access_token=qs-tok-5',
    },
    'request completed',
  );
  log.info('GET https://bucket.s3/r.pdf?X-Amz-Signature=qs-sig-6;client_secret=qs-sec-7#top');
  const text = out.lines.join('');
  for (const secret of ['qs-tok-1', 'qs-key-2', 'qs-sig-3', 'qs-cred-4', 'qs-tok-5', 'qs-sig-6', 'qs-sec-7'])
    t.false(text.includes(secret), secret);
  t.true(text.includes('/health?token=[Redacted]&tokens_in=5&api_key=[Redacted]'));
});

test("a postgres URL's password is censored however it is written: percent-encoded, decoded, in an error", (t) => {
  const out = capture();
  const config = loadConfig({
    env: { DATABASE_URL: 'postgres://hxp:p%40ss%3Aw0rd-Z@db.internal:5432/hxp' },
    secretsDir: noSecrets,
  });
  const log = createLogger(config, {}, out);
  log.info({ url: config.database.url }, 'connecting');
  log.info('password was p@ss:w0rd-Z');
  log.error(new Error('connect postgres://hxp:other-pw-Q@db.internal/hxp: ECONNREFUSED'));
  const text = out.lines.join('');
  for (const secret of ['p%40ss%3Aw0rd-Z', 'p@ss:w0rd-Z', 'other-pw-Q'])
    t.false(text.includes(secret), secret);
  t.true(text.includes('db.internal'), 'the host stays readable');
});

test('isSecretKey and scrubText', (t) => {
  for (const key of [
    'password',
    'DATABASE_PASSWORD',
    'secretAccessKey',
    'api_token',
    'authorization',
    'x-api-key',
  ]) {
    t.true(isSecretKey(key), key);
  }
  for (const key of ['tokens_in', 'tokensOut', 'maxTokens', 'url', 'bucket', 'passwordPolicyVersion']) {
    t.false(isSecretKey(key), key);
  }
  t.is(
    scrubText('postgresql://:pw@h/db and https://u:p@x.org'),
    'postgresql://:[Redacted]@h/db and https://u:[Redacted]@x.org',
  );
  t.is(scrubText('http://host:8080/path'), 'http://host:8080/path', 'a port is not a password');
});

// Regression: the err serializer spread whatever it was given, so a message logged as `err` came out as an
// object of its characters ({"0":"C","1":"a",…}).
test('err may be an Error or any other value: an Error keeps its type, message and stack, a text stays a text', (t) => {
  const out = capture();
  const log = createLogger({ level: 'info' }, {}, out);
  log.error({ err: 'Cannot read properties of undefined' }, 'as a text');
  log.error({ err: new TypeError('bad thing') }, 'as an error');
  log.error({ err: { code: 'X', password: 'pw-in-object' } }, 'as an object');
  const [text, error, object] = out.records().map((r) => r.err);
  t.is(text, 'Cannot read properties of undefined');
  t.like(error, { type: 'TypeError', message: 'bad thing' });
  t.regex(String((error as { stack?: unknown }).stack), /TypeError: bad thing/);
  t.deepEqual(object, { code: 'X', password: '[Redacted]' });
});
