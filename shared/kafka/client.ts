// The kafkajs client with its logs routed to ours. kafkajs is chatty at INFO (joins, rebalances,
// retries), so its INFO goes to debug and only its WARN/ERROR reach our warn/error.
import { BatchError } from '../errors/index.ts';
import { Kafka, logLevel as KafkaLogLevel, type LogEntry, type logCreator } from 'kafkajs';

/** The logging surface used here; a pino logger fits it. */
export interface KafkaLogSink {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type KafkaLogLevelName = 'nothing' | 'error' | 'warn' | 'info' | 'debug';

export interface CreateKafkaOptions {
  brokers: readonly string[];
  clientId?: string;
  /** The least severe kafkajs level passed on (default 'warn'). */
  logLevel?: KafkaLogLevelName;
  log?: KafkaLogSink;
  /** Connection timeout per broker (ms, default 3000). */
  connectionTimeoutMs?: number;
}

const LEVELS: Record<KafkaLogLevelName, KafkaLogLevel> = {
  nothing: KafkaLogLevel.NOTHING,
  error: KafkaLogLevel.ERROR,
  warn: KafkaLogLevel.WARN,
  info: KafkaLogLevel.INFO,
  debug: KafkaLogLevel.DEBUG,
};

function routeLogs(sink: KafkaLogSink | undefined): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      if (!sink) return;
      const { message, timestamp: _timestamp, logger: _logger, ...fields } = log;
      const obj = { kafka: namespace, ...fields };
      if (level === KafkaLogLevel.ERROR) sink.error(obj, message);
      else if (level === KafkaLogLevel.WARN) sink.warn(obj, message);
      else sink.debug(obj, message);
    };
}

export function createKafka(options: CreateKafkaOptions): Kafka {
  if (options.brokers.length === 0) {
    throw new BatchError(
      'CONFIG_INVALID',
      'createKafka: no brokers given; set KAFKA_BOOTSTRAP_SERVERS (e.g. 127.0.0.1:9092)',
    );
  }
  return new Kafka({
    clientId: options.clientId ?? 'hxp-batch',
    brokers: [...options.brokers],
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    logLevel: LEVELS[options.logLevel ?? 'warn'],
    logCreator: routeLogs(options.log),
  });
}
