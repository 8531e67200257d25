export { createKafka, type CreateKafkaOptions, type KafkaLogLevelName, type KafkaLogSink } from './client.ts';
export { createPublisher, type PublishMessage, type Publisher, type PublisherOptions } from './producer.ts';
export {
  configuredTopics,
  DEFAULT_TOPIC_SETTINGS,
  ensureTopics,
  topicSettingsFrom,
  waitForTopics,
  type TopicCheck,
  type TopicSettings,
  type TopicsLog,
} from './topics.ts';
