// The ingest settings that come from the one configuration: normalising limits and dimension keys for
// both paths, and the pull options (group, topics, DLQ) for the Kafka path.
import type { BatchProcessingConfig } from '../config/index.ts';
import { topicSettingsFrom } from '../kafka/index.ts';
import { priceTableFrom } from '../pricing/load.ts';
import type { NormalizeSettings } from './normalize.ts';
import type { PullOptions } from './pull.ts';

export function normalizeSettingsFrom(config: BatchProcessingConfig): NormalizeSettings {
  return {
    limits: {
      maxEventBytes: config.ingestion.maxEventBytes,
      maxFields: config.ingestion.maxFields,
      maxFutureSkewMs: config.ingestion.maxFutureSkewSeconds * 1000,
      rawRetentionDays: config.retention.rawDays,
    },
    dimensionKeys: config.ingestion.dimensionKeys,
    prices: priceTableFrom(config),
  };
}

/** Pull options from the configuration; `overrides` sets the per-invocation bounds. */
export function pullOptionsFrom(
  config: BatchProcessingConfig,
  overrides: Partial<PullOptions> = {},
): PullOptions {
  return {
    ...normalizeSettingsFrom(config),
    groupId: config.kafka.consumerGroup,
    topics: config.kafka.topics.raw,
    dlqTopic: config.kafka.topics.dlq,
    sessionTimeoutMs: config.kafka.sessionTimeoutMs,
    topicSettings: topicSettingsFrom(config),
    ...overrides,
  };
}
