export type { DeadLetter, IngestEvent, IngestLogger, StoreResult } from './types.ts';
export { silentLogger } from './types.ts';
export { storeEvents, UNSTORABLE_CODE, type StoreOptions } from './store.ts';
export { readOffsets, type PartitionOffset } from './offsets-sql.ts';
export {
  DEFAULT_LIMITS,
  kafkaRecordKey,
  normalizeHttpBody,
  normalizeKafkaRecord,
  type NormalizeSettings,
  type Normalized,
} from './normalize.ts';
export {
  answerPush,
  connectorRecord,
  ingestPayload,
  type ConnectorRecord,
  type PushAnswer,
  type PushConflict,
  type PushDeps,
  type PushRejection,
  type PushRequest,
  type PushResult,
} from './push.ts';
export {
  DEFAULT_GROUP_ID,
  pullFromKafka,
  type PullDeps,
  type PullHooks,
  type PullOptions,
  type PullResult,
} from './pull.ts';
export { normalizeSettingsFrom, pullOptionsFrom } from './settings.ts';
export { partitionLags, type LagOffsets, type PartitionLag } from './kafka-lag.ts';
export { DEAD_LETTER_REASONS } from './dead-letter-reasons.ts';
export {
  LIST_PAYLOAD_BYTES,
  MAX_DEAD_LETTERS_LIMIT,
  MAX_REPLAY_IDS,
  deadLetterView,
  getDeadLetter,
  listDeadLetters,
  parseDeadLettersQuery,
  replayDeadLetters,
  type DeadLetterPage,
  type DeadLetterView,
  type ReplayDeps,
  type ReplayItem,
  type ReplayOutcome,
  type ReplayResult,
} from './dead-letters.ts';
