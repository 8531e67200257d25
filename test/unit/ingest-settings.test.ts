import test from 'ava';
import { parseConfig } from '../../shared/config/index.ts';
import { DEFAULT_LIMITS, normalizeSettingsFrom, pullOptionsFrom } from '../../shared/ingest/index.ts';

test('the default configuration gives the default normalising limits', (t) => {
  const settings = normalizeSettingsFrom(parseConfig({}));
  t.deepEqual(settings.limits, DEFAULT_LIMITS);
  t.deepEqual(settings.dimensionKeys, ['model']);
});

test('pull options come from the kafka section, with per-invocation overrides', (t) => {
  const config = parseConfig({
    kafka: { consumerGroup: 'g1', topics: { raw: ['a', 'b'], dlq: 'dead' } },
    ingestion: { maxFutureSkewSeconds: 60 },
  });
  const options = pullOptionsFrom(config, { maxRecords: 10 });
  t.like(options, { groupId: 'g1', topics: ['a', 'b'], dlqTopic: 'dead', maxRecords: 10 });
  t.is(options.limits?.maxFutureSkewMs, 60_000);
});
