import test from 'ava';
import { leftoverBenchTopics } from '../../bench/services.ts';

const HOUR = 3_600_000;
const now = Date.parse('2026-12-07T12:00:00Z');
const id = (msAgo: number) => (now - msAgo).toString(36);

test('a benchmark topic is a leftover once its run began over six hours ago; other topics never are', (t) => {
  const topics = [
    `hxp-bench-10000000-${id(30 * HOUR)}`, // a 10M run stopped yesterday
    `hxp-bench-scale-1000000-${id(7 * HOUR)}`,
    `hxp-bench-load-${id(48 * HOUR)}`,
    `hxp-bench-1000000-${id(5 * HOUR)}`, // a run that may still be going (or kept with --keep)
    `hxp-bench-1000000-${(now + HOUR).toString(36)}`, // a clock ahead: not judged old
    'hxp-bench-1000000-zzzzzzzz', // not a time this side of the future
    'hxp-bench-1000000-00000001', // not a time after 2020
    'hxp.events.raw',
    `rt.raw.${id(30 * HOUR)}`,
    `my-hxp-bench-1000000-${id(30 * HOUR)}`,
  ];
  t.deepEqual(leftoverBenchTopics(topics, now), topics.slice(0, 3));
  t.deepEqual(leftoverBenchTopics(topics, now, HOUR), topics.slice(0, 4), 'the age is a parameter');
});
