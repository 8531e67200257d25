// ensureTopics' reading of what the admin API answers, against a fake admin (the real broker's behaviour is
// in test/integration/kafka-topics.test.ts): a busy broker that creates a topic but elects its leaders
// after kafkajs stopped waiting must not make the topic count as missing.
import test from 'ava';
import type { Kafka } from 'kafkajs';
import { DEFAULT_TOPIC_SETTINGS, ensureTopics } from '../../shared/kafka/topics.ts';

function fakeKafka(create: (topic: string, listed: Set<string>) => boolean): Kafka {
  const listed = new Set<string>(['old']);
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    listTopics: async () => [...listed],
    createTopics: async ({ topics }: { topics: Array<{ topic: string }> }) =>
      create((topics[0] as { topic: string }).topic, listed),
  };
  return { admin: () => admin } as unknown as Kafka;
}

const leadersLate = Object.assign(new Error('This server does not host this topic-partition'), {
  type: 'UNKNOWN_TOPIC_OR_PARTITION',
});

test('a topic created whose leaders kafkajs waited for in vain is present, not missing', async (t) => {
  const kafka = fakeKafka((topic, listed) => {
    listed.add(topic);
    throw leadersLate;
  });
  const check = await ensureTopics(kafka, ['old', 'new'], DEFAULT_TOPIC_SETTINGS);
  t.deepEqual(check, { present: ['old', 'new'], created: ['new'], missing: [] });
});

test('a topic the broker did not create stays missing, with the reason', async (t) => {
  const kafka = fakeKafka(() => {
    throw leadersLate;
  });
  const check = await ensureTopics(kafka, ['new'], DEFAULT_TOPIC_SETTINGS);
  t.deepEqual(check.present, []);
  t.deepEqual(check.missing, [{ topic: 'new', reason: 'creating it failed (UNKNOWN_TOPIC_OR_PARTITION)' }]);
});
