// Copies rejected records to the DLQ topic after their dead_letters rows committed. Best effort: the
// table is the record of truth; the message key is the idempotency key, so a re-send is recognisable.
import type { Publisher } from '../kafka/index.ts';
import type { DeadLetter, IngestLogger } from './types.ts';

export async function publishDeadLetters(
  publisher: Publisher,
  topic: string,
  letters: readonly DeadLetter[],
  log: IngestLogger,
): Promise<void> {
  try {
    await publisher.publishMany(
      topic,
      letters.map((l) => ({
        key: l.idempotencyKey,
        value: {
          idempotencyKey: l.idempotencyKey,
          origin: l.origin,
          reasonCode: l.reasonCode,
          reason: l.reason,
          topic: l.topic ?? null,
          partition: l.partition ?? null,
          offset: l.offset === undefined ? null : String(l.offset),
          payloadBase64: l.payload.toString('base64'),
        },
      })),
    );
  } catch (err) {
    log.warn(
      { err, topic, count: letters.length },
      'could not copy dead letters to the DLQ topic; they are in dead_letters',
    );
  }
}
