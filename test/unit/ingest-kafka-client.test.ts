import test from 'ava';
import { createKafka, type KafkaLogSink } from '../../shared/kafka/index.ts';

function recordingSink() {
  const calls: [string, object, string | undefined][] = [];
  const sink: KafkaLogSink = {
    debug: (obj, msg) => calls.push(['debug', obj, msg]),
    warn: (obj, msg) => calls.push(['warn', obj, msg]),
    error: (obj, msg) => calls.push(['error', obj, msg]),
  };
  return { sink, calls };
}

test('kafkajs logs reach our logger: ERROR→error, WARN→warn, INFO→debug, with its fields', (t) => {
  const { sink, calls } = recordingSink();
  const kafka = createKafka({ brokers: ['127.0.0.1:1'], log: sink, logLevel: 'info' });
  const logger = kafka.logger();
  logger.error('broker down', { broker: 'b1' });
  logger.warn('slow', {});
  logger.info('joined', { groupId: 'g' });
  logger.debug('noise', {});
  t.deepEqual(
    calls.map(([level, , msg]) => [level, msg]),
    [
      ['error', 'broker down'],
      ['warn', 'slow'],
      ['debug', 'joined'],
    ],
  );
  t.like(calls[0]?.[1], { broker: 'b1' });
});

test('the default level passes only warnings and errors', (t) => {
  const { sink, calls } = recordingSink();
  const logger = createKafka({ brokers: ['127.0.0.1:1'], log: sink }).logger();
  logger.info('joined', {});
  logger.warn('slow', {});
  t.deepEqual(
    calls.map(([level]) => level),
    ['warn'],
  );
});

test('createKafka without brokers says which setting to fix', (t) => {
  const err = t.throws(() => createKafka({ brokers: [] }));
  t.regex(err?.message ?? '', /KAFKA_BOOTSTRAP_SERVERS/);
});
