// runAggregation refuses bad requests before it touches the database.
import test from 'ava';
import type { Database } from '../../shared/db/index.ts';
import { isBatchError } from '../../shared/errors/index.ts';
import { DEFAULT_JOB_OPTIONS, runAggregation, type RunAggregationRequest } from '../../shared/jobs/index.ts';
import { boundInstant } from '../../shared/jobs/aggregation-request.ts';
import { levelBelow, levelsAbove } from '../../shared/aggregate/index.ts';

function untouchable(): { db: Database; calls: string[] } {
  const calls: string[] = [];
  const fail = (name: string) => () => {
    calls.push(name);
    throw new Error(`database used: ${name}`);
  };
  const db = {
    embedded: false,
    query: fail('query'),
    withClient: fail('withClient'),
    transaction: fail('transaction'),
    close: async () => undefined,
  } as unknown as Database;
  return { db, calls };
}

const bad: [string, Partial<RunAggregationRequest>, RegExp][] = [
  ['only from', { from: '2026-11-01T00:00:00Z' }, /needs both "from" and "to"/],
  [
    'from not a date',
    { from: 'yesterday', to: '2026-11-01T00:00:00Z' },
    /backfill "from" is "yesterday", not a date; use an ISO 8601/,
  ],
  ['from after to', { from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z' }, /must be before "to"/],
  ['unknown level', { level: 'year' as never }, /level is "year"; expected one of hour, day, week, month/],
  [
    'unknown trigger',
    { trigger: 'timer' as never },
    /trigger is "timer"; expected one of cron, http, kafka, backfill, manual/,
  ],
];

for (const [name, patch, message] of bad) {
  test(`refuses ${name} with REQUEST_INVALID and no database work`, async (t) => {
    const { db, calls } = untouchable();
    const err = await t.throwsAsync(
      runAggregation({ db, options: DEFAULT_JOB_OPTIONS }, { level: 'hour', trigger: 'manual', ...patch }),
    );
    t.true(isBatchError(err, 'REQUEST_INVALID'), String(err));
    t.regex(err?.message ?? '', message);
    t.deepEqual(calls, []);
  });
}

test('levels nest hour → day → week and day → month', (t) => {
  t.is(levelBelow('hour'), undefined);
  t.is(levelBelow('day'), 'hour');
  t.is(levelBelow('week'), 'day');
  t.is(levelBelow('month'), 'day');
  t.deepEqual(levelsAbove('hour'), ['day']);
  t.deepEqual(levelsAbove('day'), ['week', 'month']);
  t.deepEqual(levelsAbove('month'), []);
});

test('defaults follow the brief: UTC, ISO weeks, 3 retries 300 s apart', (t) => {
  t.like(DEFAULT_JOB_OPTIONS, { timeZone: 'UTC', weekStart: 'monday', retries: 3, retryDelayMs: 300_000 });
});

test('a backfill date is the whole local day, where the clocks skip or repeat its midnight too', (t) => {
  const bounds = (date: string, zone: string) =>
    [boundInstant(date, zone, 'from'), boundInstant(date, zone, 'to')].map((d) => d.toISOString());
  // Santiago's 2026-09-05 runs to the skipped midnight, which is 01:00 of 09-06 (04:00Z): 24 hours.
  t.deepEqual(bounds('2026-09-05', 'America/Santiago'), [
    '2026-09-05T04:00:00.000Z',
    '2026-09-06T04:00:00.000Z',
  ]);
  t.deepEqual(bounds('2026-09-06', 'America/Santiago'), [
    '2026-09-06T04:00:00.000Z',
    '2026-09-07T03:00:00.000Z',
  ]);
  // Havana's 2026-11-01 starts at its first midnight (CDT) and lasts 25 hours.
  t.deepEqual(bounds('2026-11-01', 'America/Havana'), [
    '2026-11-01T04:00:00.000Z',
    '2026-11-02T05:00:00.000Z',
  ]);
  t.deepEqual(bounds('2026-11-30', 'Asia/Kolkata'), ['2026-11-29T18:30:00.000Z', '2026-11-30T18:30:00.000Z']);
});
