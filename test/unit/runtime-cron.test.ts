import test from 'ava';
import { createCronScheduler, cronJobs, dueBetween, nextFire, parseSchedule } from '../../runtime/cron.ts';
import type { FunctionSpec } from '../../runtime/stack.ts';
import { recordingLog } from '../e2e/runtime-fixtures.ts';

const spec = (name: string, annotations: Record<string, string>): FunctionSpec => ({
  name,
  lang: 'node20-ts',
  image: name,
  handlerPath: '/x',
  environment: {},
  labels: {},
  annotations,
  secrets: [],
  limits: null,
  requests: null,
  readOnlyRootFilesystem: false,
});

test('schedules accept the CRON_TZ= prefix and reject non-5-field expressions with the expected form', (t) => {
  t.deepEqual(parseSchedule('CRON_TZ=Europe/Berlin 0 0 * * *'), {
    expression: '0 0 * * *',
    timezone: 'Europe/Berlin',
  });
  t.deepEqual(parseSchedule('5 * * * *', 'UTC'), { expression: '5 * * * *', timezone: 'UTC' });
  t.regex(t.throws(() => parseSchedule('0 0 * * * *')).message, /5-field cron expression/);
});

test('only topic cron-function with a schedule becomes a cron job', (t) => {
  const jobs = cronJobs([
    spec('a', { topic: 'cron-function', schedule: '0 * * * *' }),
    spec('b', { topic: 'hxp.events.raw' }),
    spec('c', { schedule: '0 * * * *' }),
  ]);
  t.deepEqual(jobs, [{ fn: 'a', expression: '0 * * * *', timezone: 'UTC' }]);
});

test('next fire times follow the zone', (t) => {
  t.is(
    nextFire('0 0 * * *', 'Europe/Berlin', new Date('2026-11-28T10:00:00Z')).toISOString(),
    '2026-11-28T23:00:00.000Z',
  );
  t.true(
    dueBetween(
      { expression: '0 * * * *', timezone: 'UTC' },
      new Date('2026-11-28T09:59:59Z'),
      new Date('2026-11-28T10:00:00Z'),
    ),
  );
  t.false(
    dueBetween(
      { expression: '0 * * * *', timezone: 'UTC' },
      new Date('2026-11-28T10:00:00Z'),
      new Date('2026-11-28T10:59:59Z'),
    ),
  );
});

test('fireDue invokes each due job once with the cron-connector headers', async (t) => {
  const calls: Array<{ fn: string; headers: Record<string, string> }> = [];
  const scheduler = createCronScheduler(
    cronJobs([
      spec('hourly', { topic: 'cron-function', schedule: '0 * * * *' }),
      spec('daily', { topic: 'cron-function', schedule: '0 0 * * *' }),
    ]),
    async (fn, headers) => {
      calls.push({ fn, headers });
      return 200;
    },
    recordingLog(),
  );
  t.deepEqual(await scheduler.fireDue(new Date('2026-11-28T10:30:00Z'), new Date('2026-11-28T11:00:00Z')), [
    { fn: 'hourly', status: 200 },
  ]);
  t.deepEqual(calls[0]?.headers, {
    'X-Connector': 'cron-connector',
    'X-Topic': 'cron-function',
    'Content-Type': 'text/plain',
  });
  const midnight = await scheduler.fireDue(
    new Date('2026-11-28T23:59:00Z'),
    new Date('2026-11-29T00:00:00Z'),
  );
  t.deepEqual(midnight.map((f) => f.fn).sort(), ['daily', 'hourly']);
});
