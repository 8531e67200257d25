// settingsAsEnv writes a loaded configuration back as environment variables (the local runtime expands
// stack.yml with them): read back, they give the same configuration, secrets aside.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { loadConfig, settings, settingsAsEnv } from '../../shared/config/index.ts';

const noSecrets = mkdtempSync(join(tmpdir(), 'hxp-no-secrets-'));

test('the defaults, written as environment variables, load back as the defaults', (t) => {
  const defaults = loadConfig({ env: {}, secretsDir: noSecrets });
  t.deepEqual(loadConfig({ env: settingsAsEnv(defaults), secretsDir: noSecrets }), defaults);
});

test('a YAML file of lists, sizes, durations, zones and maps, written as environment variables, loads back', (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'hxp-as-env-')), 'config.yml');
  writeFileSync(
    file,
    [
      'batch_processing:',
      '  timezone: Australia/Adelaide',
      '  week_start: sunday',
      '  jobs: { timeout: 15m, retries: 5 }',
      '  retention: { raw_data_days: 45, quota: { database: 3GiB } }',
      '  reports: { formats: [pdf, csv], email: { recipients: [ops@example.com, fin@example.com] } }',
      '  capacity_analysis: { thresholds: { cpu: 70, disk: 90 } }',
      'kafka:',
      '  topics: { raw: [a.raw, b.raw], events: my.events }',
      '',
    ].join('\n'),
  );
  const config = loadConfig({ env: { CONFIG_FILE: file }, secretsDir: noSecrets });
  const env = settingsAsEnv(config);
  t.is(env.BATCH_PROCESSING_TIMEOUT, '900');
  t.is(env.KAFKA_RAW_TOPICS, 'a.raw,b.raw');
  t.deepEqual(loadConfig({ env, secretsDir: noSecrets }), config);
});

test('secrets are never written out', (t) => {
  const config = loadConfig({
    env: { BATCH_PROCESSING_API_TOKEN: 'tok-123', SMTP_PASSWORD: 'pw-456' },
    secretsDir: noSecrets,
  });
  const env = settingsAsEnv(config);
  for (const source of Object.values(settings).filter((s) => s.secret === true)) {
    t.false(source.env in env, source.env);
  }
  t.notRegex(JSON.stringify(env), /tok-123|pw-456/);
});
