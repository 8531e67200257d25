import test from 'ava';
import { loadConfig, parseConfig } from '../../shared/config/index.ts';
import { DEFAULT_LIMITS, normalizeSettingsFrom, pullOptionsFrom } from '../../shared/ingest/index.ts';
import { configuredTopics, DEFAULT_TOPIC_SETTINGS, topicSettingsFrom } from '../../shared/kafka/index.ts';

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

test('topic creation settings come from kafka.topics, with defaults that suit one broker', (t) => {
  t.deepEqual(topicSettingsFrom(parseConfig({})), { create: true, partitions: 4, replicationFactor: 1 });
  t.deepEqual(topicSettingsFrom(parseConfig({})), DEFAULT_TOPIC_SETTINGS);
  const config = loadConfig({
    env: { KAFKA_TOPIC_CREATE: 'false', KAFKA_TOPIC_PARTITIONS: '12', KAFKA_TOPIC_REPLICATION_FACTOR: '3' },
    file: null,
  });
  t.deepEqual(topicSettingsFrom(config), { create: false, partitions: 12, replicationFactor: 3 });
  t.deepEqual(pullOptionsFrom(config).topicSettings, { create: false, partitions: 12, replicationFactor: 3 });
  t.deepEqual(
    configuredTopics(parseConfig({ kafka: { topics: { raw: ['r1', 'r2'], events: 'ev', dlq: 'r1' } } })),
    ['r1', 'r2', 'ev'],
  );
  t.throws(() => loadConfig({ env: { KAFKA_TOPIC_PARTITIONS: '0' }, file: null }), {
    message: /KAFKA_TOPIC_PARTITIONS="0"/,
  });
});
