// docs/configuration.md is generated from the schema and cannot drift; the key table is complete and
// unambiguous.
import { readFileSync } from 'node:fs';
import test from 'ava';
import { renderConfigDocs, settingKeys, settings } from '../../shared/config/index.ts';
import { leafSchemas } from '../../shared/config/schema.ts';

test('docs/configuration.md is what scripts/gen-config-docs.ts generates (run it after changing the schema)', (t) => {
  const committed = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  t.is(committed, renderConfigDocs());
});

test('the docs have one row per key with its environment variable and YAML path', (t) => {
  const docs = renderConfigDocs();
  for (const key of settingKeys) {
    const row = docs.split('\n').find((line) => line.startsWith(`| \`${key}\` |`));
    t.truthy(row, key);
    t.true(row?.includes(`\`${settings[key].env}\``), key);
    t.true(row?.includes(`\`${settings[key].yaml}\``), key);
  }
  t.true(docs.includes('| `aggregation.cron.hourly` | `BATCH_PROCESSING_HOURLY_CRON` |'));
  t.true(docs.includes('| `0 * * * *` |'), 'defaults are shown');
});

test('the key table and the schema name the same keys', (t) => {
  t.deepEqual([...leafSchemas().keys()].sort(), [...settingKeys].sort());
});

test('environment variables, YAML paths and secret files are unique and well-formed', (t) => {
  const unique = (values: string[]) => t.is(new Set(values).size, values.length, values.join(','));
  const all = settingKeys.map((key) => settings[key]);
  unique(all.map((s) => s.env));
  unique(all.map((s) => s.yaml));
  unique(all.flatMap((s) => (s.secretFile === undefined ? [] : [s.secretFile])));
  for (const s of all) {
    t.regex(s.env, /^[A-Z][A-Z0-9_]*$/);
    t.regex(s.yaml, /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/);
    if (s.secretFile !== undefined) t.true(s.secret, `${s.env} has a secret file, so it is secret`);
  }
});

test('no YAML path is a prefix of another (a section cannot also be a setting)', (t) => {
  const paths = settingKeys.map((key) => settings[key].yaml);
  const clashes = paths.filter((a) => paths.some((b) => b.startsWith(`${a}.`)));
  t.deepEqual(clashes, []);
});
