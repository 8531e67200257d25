// Zones whose days start inside a UTC hour (Asia/Kolkata +05:30, Asia/Kathmandu +05:45, Australia/Adelaide
// +09:30/+10:30 across its October DST start, Australia/Lord_Howe +11:00/+10:30 across its April one): every stored day, week and month equals exact SQL over the raw
// events grouped by the local day, week and month in that zone — count, exact sum and sum of squares, min, max,
// and p50/p95/p99 of a sketch built straight from the raw values. Events crowd the local midnights (the last
// millisecond before one, the instant itself, minutes either side), which fall inside UTC hours. Also: a late
// event in such an hour re-opens both days it feeds, and a change of zone leaves nothing stale behind.
import type { ExecutionContext } from 'ava';
import type { Database } from '../../shared/db/index.ts';
import { runAggregation } from '../../shared/jobs/index.ts';
import { sqlKey, sqlQuantileQuery, sqlSign } from '../../shared/sketch/index.ts';
import { dayStartInside, localDate } from '../../shared/aggregate/local-time.ts';
import { loadConfig } from '../../shared/config/index.ts';
import { jobOptionsOf } from '../../shared/function-context.ts';
import {
  DIRECT_VALUES,
  bothBackends,
  deps,
  rng,
  runAllLevels,
  storeTestEvents,
  type TestEvent,
} from './aggregate-fixtures.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const MODELS = ['llama-3-70b', 'mistral-7b'];
const SOURCES = ['api-1', 'api-2'];

/** The UTC instants local days of `zone` start at, over [from, to), found per hour with Intl. */
function dayStarts(zone: string, from: string, to: string): number[] {
  const out: number[] = [];
  for (let h = Math.floor(Date.parse(from) / HOUR) * HOUR; h < Date.parse(to); h += HOUR) {
    const inside = dayStartInside(h, zone);
    if (inside !== undefined) out.push(inside);
  }
  return out;
}

/** Every local midnight of `zone` in [from, to): on a UTC hour or inside one. */
function allDayStarts(zone: string, from: string, to: string): number[] {
  const out: number[] = [];
  for (let h = Math.floor(Date.parse(from) / HOUR) * HOUR; h < Date.parse(to); h += HOUR) {
    if (localDate(h - 1, zone) !== localDate(h, zone)) out.push(h);
    const inside = dayStartInside(h, zone);
    if (inside !== undefined) out.push(inside);
  }
  return out;
}

/**
 * Events around every local midnight in [from, to) — at it, 1 ms before, and at random minutes within 40
 * minutes either side — plus a few at random times of each day, with mixed sources, models and signs.
 */
function eventsAround(zone: string, from: string, to: string, seed: number): TestEvent[] {
  const random = rng(seed);
  const times: number[] = [];
  for (const start of allDayStarts(zone, from, to)) {
    times.push(start - 1, start, start + 1);
    for (let i = 0; i < 8; i++) times.push(start + Math.round((random() - 0.5) * 80 * 60_000));
    for (let i = 0; i < 3; i++) times.push(start + Math.floor(random() * DAY));
  }
  return times.map((ts, i) => ({
    ts: new Date(ts),
    source: SOURCES[i % SOURCES.length] ?? 'api-1',
    dims: { model: MODELS[Math.floor(random() * MODELS.length)] ?? 'x' },
    metrics: {
      latency_ms: Math.exp(5 + 2 * random()),
      delta: i % 7 === 0 ? 0 : (random() - 0.5) * 100,
      n: 1,
    },
  }));
}

const TRUNC = { day: 'day', week: 'week', month: 'month' } as const;

/**
 * Stored state of `level` next to the same figures from raw events grouped by their local date in the zone:
 * returns how many series-buckets were compared and those that differ. count, sum and sum_squares compare as
 * exact numerics, min/max as float8, quantiles as the sketch's estimate over bins built from the raw values.
 */
async function compareLevel(
  db: Database,
  level: keyof typeof TRUNC,
  zone: string,
  weekStart: 'monday' | 'sunday' = 'monday',
): Promise<{ compared: number; mismatches: Record<string, unknown>[] }> {
  // Grouped by the local calendar: the local date (its week, its month) of each event, and each stored bucket
  // by the local date it starts (a day starting at a skipped midnight starts at 01:00 of its date). A Sunday
  // week is the ISO week of the day after, a day earlier.
  const local = `(ts AT TIME ZONE '${zone}')`;
  const bucket =
    level === 'week' && weekStart === 'sunday'
      ? `date_trunc('week', ${local} + interval '1 day') - interval '1 day'`
      : `date_trunc('${TRUNC[level]}', ${local})`;
  const storedBucket = `date_trunc('${level === 'month' ? 'month' : 'day'}', bucket AT TIME ZONE '${zone}')`;
  const valued = `(SELECT ${bucket} AS bucket, * FROM (${DIRECT_VALUES}) v)`;
  const quantiles = sqlQuantileQuery({
    bins: `(SELECT bucket, event_type, metric, dimension, dimension_value, ${sqlSign('value')} AS sign,
              ${sqlKey('value')} AS key, 1::bigint AS count FROM ${valued} b0)`,
    groupBy: ['bucket', 'event_type', 'metric', 'dimension', 'dimension_value'],
    bounds: {
      relation: `(SELECT bucket, event_type, metric, dimension, dimension_value, min(value) AS min, max(value) AS max
                  FROM ${valued} b1 GROUP BY 1, 2, 3, 4, 5)`,
    },
  });
  const { rows } = await db.query<Record<string, unknown>>(
    `WITH direct AS (
       SELECT bucket, event_type, metric, dimension, dimension_value, count(*) AS count,
              sum(value::numeric) AS sum, sum(value::numeric * value::numeric) AS sum_squares,
              min(value) AS min, max(value) AS max
       FROM ${valued} v GROUP BY 1, 2, 3, 4, 5
     ),
     q AS (${quantiles}),
     stored AS (SELECT ${storedBucket} AS bucket, event_type, metric, dimension, dimension_value, count, sum,
                       sum_squares, min, max, p50, p95, p99
                FROM aggregate_state WHERE level = $1)
     SELECT coalesce(d.bucket, s.bucket) AS bucket, coalesce(d.metric, s.metric) AS metric,
            coalesce(d.dimension, s.dimension) AS dimension, coalesce(d.dimension_value, s.dimension_value) AS value,
            d.count AS d_count, s.count AS s_count, d.sum::text AS d_sum, s.sum::text AS s_sum,
            d.min AS d_min, s.min AS s_min, d.max AS d_max, s.max AS s_max,
            q.p50 AS q_p50, s.p50 AS s_p50, q.p99 AS q_p99, s.p99 AS s_p99,
            (d.count = s.count AND d.sum = s.sum AND d.sum_squares = s.sum_squares AND d.min = s.min
             AND d.max = s.max AND q.p50 = s.p50 AND q.p95 = s.p95 AND q.p99 = s.p99) AS ok
     FROM direct d
     LEFT JOIN q USING (bucket, event_type, metric, dimension, dimension_value)
     FULL JOIN stored s USING (bucket, event_type, metric, dimension, dimension_value)`,
    [level],
  );
  return { compared: rows.length, mismatches: rows.filter((r) => r.ok !== true) };
}

async function assertExact(
  t: ExecutionContext,
  db: Database,
  zone: string,
  weekStart: 'monday' | 'sunday' = 'monday',
): Promise<void> {
  for (const level of ['day', 'week', 'month'] as const) {
    const { compared, mismatches } = await compareLevel(db, level, zone, weekStart);
    t.true(compared > 0, `${level}: nothing compared`);
    t.deepEqual(
      mismatches.slice(0, 5),
      [],
      `${level} in ${zone}: ${mismatches.length} of ${compared} differ`,
    );
  }
}

async function quarterHours(db: Database): Promise<string[]> {
  const { rows } = await db.query<{ hour: Date }>('SELECT hour FROM aggregate_quarter_hours ORDER BY hour');
  return rows.map((r) => r.hour.toISOString());
}

bothBackends(
  'PostgreSQL places the day starts of every half-hour zone where Intl does, over 2026',
  async (t, db) => {
    for (const zone of ['Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Adelaide', 'Australia/Lord_Howe']) {
      const { rows } = await db.query<{ start: Date }>(
        `SELECT DISTINCT agg_bucket_start('day', q, $1) AS start
       FROM generate_series('2026-01-01T00:00:00Z'::timestamptz, '2027-01-01T00:00:00Z', interval '15 minutes') AS q
       ORDER BY 1`,
        [zone],
      );
      const inside = rows
        .map((r) => r.start.getTime())
        .filter((ms) => ms % HOUR !== 0 && ms >= Date.parse('2026-01-01T00:00:00Z'));
      const intl = dayStarts(zone, '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z');
      t.true(intl.length > 150, zone);
      t.deepEqual(
        inside.map((ms) => new Date(ms).toISOString()),
        intl.map((ms) => new Date(ms).toISOString()),
        zone,
      );
    }
  },
);

// Each span crosses a month end and a week start (Monday); Adelaide's also its DST start (Sun 2026-10-04
// 02:00 local: midnights move from 14:30 to 13:30 UTC), Lord Howe's its half-hour DST end.
const CASES = [
  { zone: 'Asia/Kolkata', from: '2026-11-27T00:00:00Z', to: '2026-12-03T00:00:00Z', midnight: '18:30' },
  { zone: 'Asia/Kathmandu', from: '2026-11-27T00:00:00Z', to: '2026-12-03T00:00:00Z', midnight: '18:15' },
  { zone: 'Australia/Adelaide', from: '2026-09-27T00:00:00Z', to: '2026-10-07T00:00:00Z', midnight: '14:30' },
  // +11:00 until Sun 04-05 02:00, then +10:30: midnights at 13:00 UTC (on the hour, no quarters), then 13:30;
  // Sun 04-05 lasts 24.5 hours, from 13:00 to 13:30 UTC the next day.
  {
    zone: 'Australia/Lord_Howe',
    from: '2026-03-29T00:00:00Z',
    to: '2026-04-09T00:00:00Z',
    midnight: '13:30',
  },
] as const;

for (const [i, c] of CASES.entries()) {
  bothBackends(`${c.zone}: days, weeks and months equal exact SQL grouped in the zone`, async (t, db) => {
    const events = eventsAround(c.zone, c.from, c.to, 100 + i);
    t.is(await storeTestEvents(db, events), events.length);
    const d = deps(db, { timeZone: c.zone });
    const result = await runAllLevels(d, new Date('2027-01-15T00:00:00Z'));
    for (const level of ['hour', 'day', 'week', 'month'] as const)
      t.is(result[level].status, 'succeeded', level);
    // Quarters are stored exactly for the hours in which a local day with events starts or ends (by the hour
    // windows, or by the first and last day, whose outer edge hours hold no events), as Intl places them.
    const { rows: span } = await db.query<{ first: Date; last: Date }>(
      `SELECT min(bucket) AS first, max(agg_bucket_end('day', bucket, $1)) AS last
       FROM aggregate_state WHERE level = 'day'`,
      [c.zone],
    );
    const from = new Date(span[0]!.first.getTime() - HOUR).toISOString();
    const to = new Date(span[0]!.last.getTime() + HOUR).toISOString();
    const expected = dayStarts(c.zone, from, to).map((s) => new Date(s - (s % HOUR)).toISOString());
    t.deepEqual(await quarterHours(db), expected);
    t.is(new Date(dayStarts(c.zone, from, to)[0]!).toISOString().slice(11, 16), c.midnight);
    await assertExact(t, db, c.zone);
    // The daily view's buckets are the local midnights.
    const { rows } = await db.query<{ timestamp: Date }>(
      `SELECT DISTINCT "timestamp" FROM daily_aggregations ORDER BY 1`,
    );
    t.true(rows.every((r) => r.timestamp.toISOString().slice(11, 16) !== '00:00'));
    t.true(rows.some((r) => r.timestamp.toISOString().slice(11, 16) === c.midnight));
  });
}

// Zones whose clocks skip a midnight (America/Santiago on 2026-09-06 and America/Asuncion on 2026-10-04 go
// from 00:00 to 01:00; America/Havana on 2026-03-08 too) or repeat one (Havana on 2026-11-01 and
// Atlantic/Azores on 2026-10-25 go from 01:00 back to 00:00), and ordinary ones: over all of 2026, each window
// of each level ends where the next one starts, its last microsecond still belongs to it, and a day starts at
// the first instant of its local date (as Intl has it).
bothBackends(
  'every day, week and month of 2026 ends where the next starts, skipped midnights included',
  async (t, db) => {
    for (const zone of [
      'America/Santiago',
      'America/Asuncion',
      'America/Havana',
      'America/New_York',
      'Asia/Kolkata',
      'Australia/Lord_Howe',
    ]) {
      for (const weekStart of ['monday', 'sunday']) {
        const { rows } = await db.query<{ level: string; bucket: Date; end: Date; next: Date; last: Date }>(
          `WITH buckets AS (
           SELECT DISTINCT l.level, agg_bucket_start(l.level, q, $1, $2) AS bucket
           FROM unnest(ARRAY['day', 'week', 'month']) AS l(level),
                generate_series('2026-01-01T00:00:00Z'::timestamptz, '2026-12-31T00:00:00Z', interval '1 hour') AS q
         )
         SELECT level, bucket, agg_bucket_end(level, bucket, $1) AS end,
                agg_bucket_start(level, agg_bucket_end(level, bucket, $1), $1, $2) AS next,
                agg_bucket_start(level, agg_bucket_end(level, bucket, $1) - interval '1 microsecond', $1, $2) AS last
         FROM buckets`,
          [zone, weekStart],
        );
        t.true(rows.length > 365 + 52 + 12, zone);
        const days = rows
          .filter((r) => r.level === 'day' && r.bucket >= new Date('2026-01-01T12:00:00Z'))
          .map((r) => r.bucket.toISOString())
          .sort();
        const intl = allDayStarts(zone, '2026-01-01T12:00:00Z', '2026-12-31T00:00:00Z').map((ms) =>
          new Date(ms).toISOString(),
        );
        t.deepEqual(days, intl, `${zone}: day starts`);
        const wrong = rows.filter(
          (r) => r.next.getTime() !== r.end.getTime() || r.last.getTime() !== r.bucket.getTime(),
        );
        t.deepEqual(
          wrong.slice(0, 3).map((r) => `${r.level} ${r.bucket.toISOString()} ends ${r.end.toISOString()}`),
          [],
          `${zone}, weeks from ${weekStart}`,
        );
      }
    }
  },
);

// America/Santiago skips 2026-09-06 00:00 (−04 → −03): that day starts at 01:00 (04:00Z) and lasts 23 hours,
// and the next starts at 03:00Z; neither it nor the week it begins (weeks from Sunday) may take the next day's
// hours. America/Havana repeats 2026-11-01 00:00 (CDT → CST at 01:00): that day starts at the first 00:00
// (04:00Z) and lasts 25 hours; so does Atlantic/Azores' 2026-10-25 (+00 → −01 at 01:00), from 00:00Z.
const MIDNIGHT_CASES = [
  {
    zone: 'America/Santiago',
    from: '2026-09-01T00:00:00Z',
    to: '2026-09-16T00:00:00Z',
    days: [
      ['2026-09-05T04:00:00.000Z', 24],
      ['2026-09-06T04:00:00.000Z', 23],
      ['2026-09-07T03:00:00.000Z', 24],
    ],
  },
  {
    zone: 'America/Havana',
    from: '2026-10-24T00:00:00Z',
    to: '2026-11-08T00:00:00Z',
    days: [
      ['2026-10-31T04:00:00.000Z', 24],
      ['2026-11-01T04:00:00.000Z', 25],
      ['2026-11-02T05:00:00.000Z', 24],
    ],
  },
  {
    zone: 'Atlantic/Azores',
    from: '2026-10-17T00:00:00Z',
    to: '2026-11-03T00:00:00Z',
    days: [
      ['2026-10-24T00:00:00.000Z', 24],
      ['2026-10-25T00:00:00.000Z', 25],
      ['2026-10-26T01:00:00.000Z', 24],
    ],
  },
] as const;

for (const c of MIDNIGHT_CASES) {
  for (const weekStart of ['monday', 'sunday'] as const) {
    bothBackends(
      `${c.zone} across its skipped or repeated midnight (weeks from ${weekStart}): days, weeks and months are exact`,
      async (t, db) => {
        const events: TestEvent[] = eventsAround(c.zone, c.from, c.to, 41);
        // And one at :20 of every UTC hour, so each day's count is its length in hours.
        for (let h = Date.parse(c.from); h < Date.parse(c.to); h += HOUR)
          events.push({ ts: new Date(h + 20 * 60_000), metrics: { hours: 1 } });
        t.is(await storeTestEvents(db, events), events.length);
        const result = await runAllLevels(
          deps(db, { timeZone: c.zone, weekStart }),
          new Date('2027-01-15T00:00:00Z'),
        );
        for (const level of ['hour', 'day', 'week', 'month'] as const)
          t.is(result[level].status, 'succeeded', level);
        await assertExact(t, db, c.zone, weekStart);
        const { rows } = await db.query<{ timestamp: Date; count: number }>(
          `SELECT "timestamp", count FROM daily_aggregations
            WHERE metric = 'hours' AND dimension = 'all' AND "timestamp" BETWEEN $1 AND $2 ORDER BY 1`,
          [c.days[0][0], c.days[2][0]],
        );
        t.deepEqual(
          rows.map((r) => [r.timestamp.toISOString(), r.count]),
          c.days.map(([day, hours]) => [day, hours]),
        );
        // A late event in the hour after the day's first 00:00 re-opens that day, not a neighbour.
        const late = Date.parse(c.days[1][0]) + 10 * 60_000;
        await storeTestEvents(db, [{ ts: new Date(late), metrics: { hours: 0 } }]);
        const again = await runAllLevels(
          deps(db, { timeZone: c.zone, weekStart }),
          new Date('2027-01-15T00:00:00Z'),
        );
        t.deepEqual(
          again.day.windows.map((w) => w.bucket),
          [c.days[1][0]],
        );
        await assertExact(t, db, c.zone, weekStart);
      },
    );
  }
}

bothBackends('Australia/Adelaide: the days around the DST start last 24, 23 and 24 hours', async (t, db) => {
  // One event at hh:10 and hh:40 of every UTC hour from local Sat 10-03 00:00 (14:30Z) to Tue 10-06 00:00.
  const events: TestEvent[] = [];
  for (let h = Date.parse('2026-10-02T14:00:00Z'); h < Date.parse('2026-10-05T14:00:00Z'); h += HOUR) {
    for (const m of [10, 40]) events.push({ ts: new Date(h + m * 60_000), metrics: { n: 1 } });
  }
  await storeTestEvents(db, events);
  await runAllLevels(deps(db, { timeZone: 'Australia/Adelaide' }), new Date('2026-11-15T00:00:00Z'));
  const { rows } = await db.query<{ timestamp: Date; count: number }>(
    `SELECT "timestamp", count FROM daily_aggregations WHERE metric = 'n' AND dimension = 'all' ORDER BY 1`,
  );
  t.deepEqual(
    rows.map((r) => [r.timestamp.toISOString(), r.count]),
    [
      ['2026-10-01T14:30:00.000Z', 1], // Fri 10-02: only 14:10Z, before its end at 14:30Z
      ['2026-10-02T14:30:00.000Z', 48], // Sat 10-03: 24 hours
      ['2026-10-03T14:30:00.000Z', 46], // Sun 10-04: 23 hours (02:00 → 03:00)
      ['2026-10-04T13:30:00.000Z', 48], // Mon 10-05
      ['2026-10-05T13:30:00.000Z', 1], // Tue 10-06: 13:40Z
    ],
  );
});

bothBackends('a late event in an hour where a day starts re-opens both days it feeds', async (t, db) => {
  const zone = 'Asia/Kolkata';
  await storeTestEvents(db, [
    { ts: '2026-11-30T18:10:00Z', metrics: { n: 1 } }, // Mon 11-30 23:40 IST
    { ts: '2026-11-30T18:50:00Z', metrics: { n: 1 } }, // Tue 12-01 00:20 IST
  ]);
  const d = deps(db, { timeZone: zone });
  const now = new Date('2027-01-15T00:00:00Z'); // December (local) is closed
  await runAllLevels(d, now);
  await assertExact(t, db, zone);
  // Two more in the same UTC hour, one on each side of the local midnight (18:30Z).
  await storeTestEvents(db, [
    { ts: '2026-11-30T18:29:59.999Z', metrics: { n: 5 } },
    { ts: '2026-11-30T18:30:00Z', metrics: { n: 7 } },
  ]);
  const again = await runAllLevels(d, now);
  t.is(again.hour.windowsDone, 1);
  t.deepEqual(
    again.day.windows.map((w) => w.bucket),
    ['2026-11-29T18:30:00.000Z', '2026-11-30T18:30:00.000Z'],
  );
  // Both days, both ISO weeks (Mon 11-30 is in one, and so is Tue 12-01) and both months change.
  t.is(again.week.windowsDone, 1);
  t.is(again.month.windowsDone, 2);
  await assertExact(t, db, zone);
});

bothBackends(
  'a change of zone leaves no stale quarter behind: days rebuilt in the new zone are exact',
  async (t, db) => {
    const events = eventsAround('Asia/Kolkata', '2026-11-27T00:00:00Z', '2026-12-03T00:00:00Z', 7).concat(
      eventsAround('Asia/Kathmandu', '2026-11-27T00:00:00Z', '2026-12-03T00:00:00Z', 8),
    );
    await storeTestEvents(db, events);
    const now = new Date('2027-01-15T00:00:00Z');
    await runAllLevels(deps(db, { timeZone: 'Asia/Kolkata' }), now);
    await assertExact(t, db, 'Asia/Kolkata');
    // Kathmandu's midnights (18:15Z) fall in the same UTC hours as Kolkata's (18:30Z): the stored quarters serve.
    // Then Adelaide's (13:30Z/14:30Z) fall in hours that have none: its days compute them themselves.
    for (const zone of ['Asia/Kathmandu', 'Australia/Adelaide']) {
      for (const level of ['day', 'week', 'month'] as const) {
        await db.query('DELETE FROM aggregate_state WHERE level = $1', [level]);
        await db.query('DELETE FROM aggregate_sketch_bins WHERE level = $1', [level]);
        await db.query('DELETE FROM aggregation_windows WHERE level = $1', [level]);
      }
      const d = deps(db, { timeZone: zone });
      for (const level of ['day', 'week', 'month'] as const) {
        const s = await runAggregation(d, {
          level,
          trigger: 'backfill',
          from: '2026-11-01T00:00:00Z',
          to: '2027-01-01T00:00:00Z',
          now,
        });
        t.is(s.status, 'succeeded', `${zone} ${level}`);
      }
      await assertExact(t, db, zone);
    }
    // A late event in an hour whose quarters a day computed: the hour's recompute (now in Adelaide) replaces them.
    await storeTestEvents(db, [{ ts: '2026-11-30T13:31:00Z', metrics: { n: 3 } }]);
    await runAllLevels(deps(db, { timeZone: 'Australia/Adelaide' }), now);
    await assertExact(t, db, 'Australia/Adelaide');
  },
);

bothBackends(
  'time.zone (BATCH_PROCESSING_TIMEZONE=Asia/Kolkata) is the zone days are cut in',
  async (t, db) => {
    const config = loadConfig({ env: { BATCH_PROCESSING_TIMEZONE: 'Asia/Kolkata' }, file: null });
    const options = jobOptionsOf(config);
    await storeTestEvents(db, [
      { ts: '2026-11-30T18:29:00Z', metrics: { n: 1 } },
      { ts: '2026-11-30T18:31:00Z', metrics: { n: 1 } },
    ]);
    await runAllLevels({ db, options }, new Date('2026-12-02T00:00:00Z'));
    const { rows } = await db.query<{ timestamp: Date; count: number }>(
      `SELECT "timestamp", count FROM daily_aggregations WHERE metric = 'n' AND dimension = 'all' ORDER BY 1`,
    );
    t.deepEqual(
      rows.map((r) => [r.timestamp.toISOString(), r.count]),
      [
        ['2026-11-29T18:30:00.000Z', 1],
        ['2026-11-30T18:30:00.000Z', 1],
      ],
    );
    // Hours stay UTC hours: both events are in the one hour 18:00 UTC.
    const { rows: hours } = await db.query<{ timestamp: Date; count: number }>(
      `SELECT "timestamp", count FROM hourly_aggregations WHERE metric = 'n' AND dimension = 'all'`,
    );
    t.deepEqual(hours, [{ timestamp: new Date('2026-11-30T18:00:00Z'), count: 2 }]);
  },
);

bothBackends(
  'a day whose edge quarters were never stored and whose raw day was archived fails with QUARTERS_UNAVAILABLE',
  async (t, db) => {
    await storeTestEvents(db, [
      { ts: '2026-11-30T18:10:00Z', metrics: { n: 1 } },
      { ts: '2026-11-30T18:50:00Z', metrics: { n: 1 } },
    ]);
    const now = new Date('2026-12-10T00:00:00Z');
    // Aggregated in UTC: hour 18:00 holds no day start there, so no quarters are kept for it.
    await runAggregation(deps(db), { level: 'hour', trigger: 'manual', now });
    t.is(await db.query('SELECT 1 FROM aggregate_quarter_hours').then((r) => r.rows.length), 0);
    // The raw day was archived and removed by the retention sweep (its ledger row is what the day checks).
    await db.query(
      `INSERT INTO archives (kind, unit, range_start, range_end, status)
       VALUES ('raw', '2026-11-30', '2026-11-30T00:00:00Z', '2026-12-01T00:00:00Z', 'deleted')`,
    );
    const days = await runAggregation(deps(db, { timeZone: 'Asia/Kolkata' }), {
      level: 'day',
      trigger: 'backfill',
      from: '2026-11-29T00:00:00Z',
      to: '2026-12-02T00:00:00Z',
      now,
    });
    t.is(days.windowsDone, 0);
    const failed = days.windows.map((w) => [w.bucket, w.error?.code]);
    t.deepEqual(failed, [
      ['2026-11-29T18:30:00.000Z', 'QUARTERS_UNAVAILABLE'],
      ['2026-11-30T18:30:00.000Z', 'QUARTERS_UNAVAILABLE'],
    ]);
    t.regex(
      days.windows[0]?.error?.message ?? '',
      /inside the UTC hour 2026-11-30T18:00:00.000Z, whose quarter-hour state was never stored .* restore them \(npm run restore -- --from 2026-11-30 --to 2026-11-30\)/,
    );
    // Nothing half-written: no day state, no quarters, no marker.
    const { rows } = await db.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM aggregate_state WHERE level = 'day')
            + (SELECT count(*) FROM aggregate_quarter_state) + (SELECT count(*) FROM aggregate_quarter_hours) AS n`,
    );
    t.is(Number(rows[0]?.n), 0);
  },
);

bothBackends(
  'dirty days of an earlier zone are moved to the configured zone, not rolled up under buckets it does not have',
  async (t, db) => {
    await storeTestEvents(db, [
      { ts: '2026-11-30T10:00:00Z', metrics: { n: 1 } }, // Mon 11-30 in India
      { ts: '2026-11-30T20:00:00Z', metrics: { n: 2 } }, // Tue 12-01 in India, still 11-30 in UTC
    ]);
    const now = new Date('2027-01-15T00:00:00Z');
    // The hours run while the zone is UTC: they re-open the UTC day 2026-11-30T00:00Z.
    await runAggregation(deps(db), { level: 'hour', trigger: 'manual', now });
    const warned: string[] = [];
    const log = {
      info: () => undefined,
      warn: (o: object, msg?: string) => void warned.push(`${msg} ${JSON.stringify(o)}`),
      error: () => undefined,
    };
    const days = await runAggregation(deps(db, { timeZone: 'Asia/Kolkata' }, { log }), {
      level: 'day',
      trigger: 'manual',
      now,
    });
    t.deepEqual(
      days.windows.map((w) => [w.bucket, w.status]),
      [
        ['2026-11-29T18:30:00.000Z', 'succeeded'],
        ['2026-11-30T18:30:00.000Z', 'succeeded'],
      ],
    );
    t.true(
      warned.some((w) => w.startsWith('dirty windows of an earlier time zone') && w.includes('"windows":1')),
    );
    for (const level of ['week', 'month'] as const) {
      await runAggregation(deps(db, { timeZone: 'Asia/Kolkata' }), { level, trigger: 'manual', now });
    }
    await assertExact(t, db, 'Asia/Kolkata');
    const { rows } = await db.query<{ bucket: Date }>(
      `SELECT bucket FROM aggregation_windows WHERE level = 'day' ORDER BY 1`,
    );
    t.deepEqual(
      rows.map((r) => r.bucket.toISOString()),
      ['2026-11-29T18:30:00.000Z', '2026-11-30T18:30:00.000Z'],
    );
  },
);
