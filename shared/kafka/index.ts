export { createKafka, type CreateKafkaOptions, type KafkaLogLevelName, type KafkaLogSink } from './client.ts';
export { createPublisher, type PublishMessage, type Publisher } from './producer.ts';
