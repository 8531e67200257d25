import test, { type ExecutionContext } from 'ava';
import { PartitionQueue } from '../../shared/ingest/partition-queue.ts';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A task that records its start and end and finishes when released. */
function gate(log: string[], name: string) {
  let release: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (release = resolve));
  return {
    task: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
    },
    release: () => release(),
  };
}

/** Tasks a1 and a2 queued on partition a, b1 on partition b, none released yet. */
function twoPartitions(t: ExecutionContext) {
  const log: string[] = [];
  const queue = new PartitionQueue(10, (err) => t.fail(String(err)));
  const [a1, a2, b1] = [gate(log, 'a1'), gate(log, 'a2'), gate(log, 'b1')];
  queue.push('a', a1.task);
  queue.push('a', a2.task);
  queue.push('b', b1.task);
  return { log, queue, a1, a2, b1 };
}

test('one partition runs its tasks in order, one at a time; other partitions run beside it', async (t) => {
  const { log, queue, a1, a2, b1 } = twoPartitions(t);
  await tick();
  t.deepEqual(log, ['start a1', 'start b1']);
  t.is(queue.size, 3);
  b1.release();
  await tick();
  t.deepEqual(log, ['start a1', 'start b1', 'end b1']);
  a1.release();
  await tick();
  t.deepEqual(log.slice(3), ['end a1', 'start a2']);
  a2.release();
  await queue.drain();
  t.is(queue.size, 0);
  t.deepEqual(log.slice(5), ['end a2']);
});

test('room() waits while the limit is reached and resolves when a task settles', async (t) => {
  const log: string[] = [];
  const queue = new PartitionQueue(2, (err) => t.fail(String(err)));
  const a = gate(log, 'a');
  const b = gate(log, 'b');
  queue.push('a', a.task);
  queue.push('b', b.task);
  let roomy = false;
  const waiting = queue.room().then(() => (roomy = true));
  await tick();
  t.false(roomy);
  b.release();
  await waiting;
  t.true(roomy);
  t.is(queue.size, 1);
  a.release();
  await queue.drain();
});

test('a task that throws goes to onError and does not stop the partition', async (t) => {
  const errors: unknown[] = [];
  const queue = new PartitionQueue(4, (err) => errors.push(err));
  const ran: string[] = [];
  queue.push('a', () => Promise.reject(new Error('boom')));
  queue.push('a', async () => {
    ran.push('after');
  });
  await queue.drain();
  t.deepEqual(
    errors.map((e) => (e as Error).message),
    ['boom'],
  );
  t.deepEqual(ran, ['after']);
});

test('settled() waits for the named partitions only, and for nothing when they are idle', async (t) => {
  const { log, queue, a1, a2, b1 } = twoPartitions(t);
  await queue.settled(['c']);
  let aSettled = false;
  const waiting = queue.settled(['a']).then(() => (aSettled = true));
  a1.release();
  await tick();
  t.false(aSettled, 'a2 is still running');
  a2.release();
  await waiting;
  t.deepEqual(log, ['start a1', 'start b1', 'end a1', 'start a2', 'end a2']);
  t.is(queue.size, 1, 'b1 is still running');
  b1.release();
  await queue.drain();
});
