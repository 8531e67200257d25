// A range's state added up in Node from a binary COPY (shared/aggregate/range-state.ts) equals the range
// statement's in SQL, field for field as PostgreSQL prints them: counts, numeric sums and sums of squares with
// their display scales, min, max, p50/p95/p99 and the bins. Raw rows of any shape the table admits — awkward
// text, dimension and metric arrays of unequal lengths, repeated and reserved names, values from subnormal to
// 1e300 — and rows the accumulator leaves to SQL (NULL elements, too many base groups). Real PostgreSQL only:
// the embedded PGlite always runs the statement.
import fc from 'fast-check';
import type { PoolClient } from 'pg';
import type { Database } from '../../shared/db/index.ts';
import { ExactSum, Float8Sums, float8Decimal } from '../../shared/aggregate/float8-numeric.ts';
import { MAX_BASE_GROUPS, RangeAccumulator } from '../../shared/aggregate/range-accumulator.ts';
import { accumulateRange, insertRangeState } from '../../shared/aggregate/range-state.ts';
import type { StateCounts } from '../../shared/aggregate/state-sql.ts';
import { keyBoundary } from '../../shared/sketch/index.ts';
import { freshPgDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';

const pgTest = serviceTest('postgres');

const HOUR = new Date('2026-11-03T10:00:00Z');
const HOUR_MS = 3_600_000;

/** The numeric text of x::numeric (and of its square): from Float8Sums, and from float8Decimal and ExactSum. */
function numericText(x: number): { value: string; square: string } {
  const sums = new Float8Sums();
  sums.add(x);
  const [mantissa, exponent] = float8Decimal(x);
  const value = new ExactSum();
  value.add(mantissa, exponent);
  const square = new ExactSum();
  square.addSquare(mantissa, exponent);
  const same = sums.sum.toString() === value.toString() && sums.squares.toString() === square.toString();
  return same
    ? { value: value.toString(), square: square.toString() }
    : { value: `Float8Sums ${sums.sum.toString()}`, square: `Float8Sums ${sums.squares.toString()}` };
}

const AWKWARD_DOUBLES = [
  0,
  -0,
  5e-324,
  -5e-324,
  2.2250738585072014e-308,
  1e-15,
  1e-9,
  9.99e-10,
  -1e-9,
  0.1,
  0.2,
  0.3,
  1 / 3,
  2 / 3,
  1.5,
  2.675,
  1e14,
  99999999999999.9,
  999999999999999,
  1e15,
  1234567890123445,
  1234567890123455,
  1e20,
  1.5e20,
  1e300,
  -1e300,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MAX_SAFE_INTEGER,
  0.000575,
  393.3,
  0.0001968,
  123456.789012345,
  1 / 7,
  keyBoundary(100),
  keyBoundary(-100),
  keyBoundary(1),
];

/** Finite doubles of every kind: any bit pattern, short decimals, integers, and the awkward ones above. */
const anyDouble = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.tuple(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 12 })).map(([m, k]) => m / 10 ** k),
  fc.integer({ min: -1e6, max: 1e6 }),
  fc.constantFrom(...AWKWARD_DOUBLES),
);

pgTest(
  'float8Decimal and ExactSum give the numeric text PostgreSQL gives x::numeric and x::numeric²',
  async (t) => {
    const { db, drop } = await freshPgDatabase({ migrate: false });
    t.teardown(drop);
    const values = [...AWKWARD_DOUBLES, ...fc.sample(anyDouble, { numRuns: 20_000, seed: 7 })];
    const { rows } = await db.query<{ value: string; square: string }>(
      `SELECT x::numeric::text AS value, (x::numeric * x::numeric)::text AS square
     FROM unnest($1::float8[]) WITH ORDINALITY AS u(x, i) ORDER BY i`,
      // String() of a double reads back as the same double
      [values.map((x) => (Object.is(x, -0) ? '-0' : String(x)))],
    );
    const wrong = values.flatMap((x, i) => {
      const ours = numericText(x);
      const theirs = rows[i]!;
      return ours.value === theirs.value && ours.square === theirs.square ? [] : [{ x, ours, theirs }];
    });
    t.deepEqual(wrong.slice(0, 5), []);
  },
);

interface RawRow {
  minute: number;
  eventType: string;
  source: string;
  metricNames: string[];
  metricValues: (number | null)[];
  dimensionNames: (string | null)[];
  dimensionValues: (string | null)[];
}

const TEXTS = [
  'a',
  'b',
  'api-1',
  '',
  'tab\there',
  'line\nbreak',
  'back\\slash',
  'quote"s',
  'é ü 字',
  '{brace,comma}',
];
const text = fc.constantFrom(...TEXTS);
const dimensionName = fc.constantFrom('model', 'region', 'all', 'source', 'tenant', 'tab\tname');
const metricName = fc.constantFrom('latency_ms', 'tokens_in', 'cost_usd', 'error', 'back\\slash');

const rawRow = (nulls: boolean): fc.Arbitrary<RawRow> =>
  fc.record({
    minute: fc.integer({ min: 0, max: 59 }),
    eventType: fc.constantFrom('llm_request', 'user_feedback', 'odd\ttype'),
    source: text,
    metricNames: fc.array(metricName, { maxLength: 5 }),
    metricValues: fc.array(nulls ? fc.option(anyDouble, { freq: 4 }) : anyDouble, { maxLength: 5 }),
    dimensionNames: fc.array(nulls ? fc.option(dimensionName, { freq: 4 }) : dimensionName, { maxLength: 3 }),
    dimensionValues: fc.array(nulls ? fc.option(text, { freq: 4 }) : text, { maxLength: 3 }),
  });

async function insertRows(tx: PoolClient, rows: readonly RawRow[]): Promise<void> {
  await tx.query('SELECT ensure_raw_partition($1::date)', [HOUR]);
  await tx.query(
    `INSERT INTO raw_events (ts, event_type, source, idempotency_key, metric_names, metric_values,
                             dimension_names, dimension_values, data)
     SELECT $1::timestamptz + make_interval(mins => (r->>'minute')::int, secs => i / 1000.0), r->>'eventType',
            r->>'source', 'k' || i,
            ARRAY(SELECT jsonb_array_elements_text(r->'metricNames')),
            ARRAY(SELECT v::float8 FROM jsonb_array_elements_text(r->'metricValues') WITH ORDINALITY AS e(v, o) ORDER BY o),
            ARRAY(SELECT e FROM jsonb_array_elements_text(r->'dimensionNames') WITH ORDINALITY AS x(e, o) ORDER BY o),
            ARRAY(SELECT e FROM jsonb_array_elements_text(r->'dimensionValues') WITH ORDINALITY AS x(e, o) ORDER BY o),
            '{}'::jsonb
     FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS x(r, i)`,
    [
      HOUR,
      // doubles as JSON strings (then ::float8), so -0 and the last bit survive; NULLs stay JSON nulls
      JSON.stringify(
        rows.map((r) => ({
          ...r,
          metricValues: r.metricValues.map((v) => (v === null ? null : Object.is(v, -0) ? '-0' : String(v))),
        })),
      ),
    ],
  );
}

/** A range's state and bins rows as PostgreSQL prints them (floats as text: -0 and every bit count). */
async function rangeRows(tx: PoolClient, grain: 'hour' | 'quarter', from: Date): Promise<unknown[]> {
  const tables =
    grain === 'hour'
      ? ['aggregate_state', 'aggregate_sketch_bins']
      : ['aggregate_quarter_state', 'aggregate_quarter_sketch_bins'];
  const { rows } = await tx.query(
    `SELECT s.event_type, s.metric, s.dimension, s.dimension_value, s.count::text, s.sum::text,
            s.sum_squares::text, s.min::text, s.max::text, s.p50::text, s.p95::text, s.p99::text,
            b.signs::text, b.keys::text, b.counts::text
     FROM ${tables[0]} s FULL JOIN ${tables[1]} b USING (level, bucket, event_type, metric, dimension, dimension_value)
     WHERE level = $1 AND bucket = $2
     ORDER BY 1, 2, 3, 4`,
    [grain, from],
  );
  return rows;
}

/** Runs fn in a transaction that is rolled back: every case starts from the same empty tables. */
async function rolledBack<T>(db: Database, fn: (tx: PoolClient) => Promise<T>): Promise<T> {
  return db.withClient(async (tx) => {
    await tx.query('BEGIN');
    try {
      return await fn(tx);
    } finally {
      await tx.query('ROLLBACK');
    }
  });
}

interface WayResult {
  counts: StateCounts;
  rows: unknown[];
}

/** Both ways of computing [from, to) on the same rows, each in a savepoint rolled back after it is read. */
async function bothWays(
  tx: PoolClient,
  grain: 'hour' | 'quarter',
  from: Date,
): Promise<{ sql: WayResult; node: WayResult }> {
  const to = new Date(from.getTime() + (grain === 'hour' ? HOUR_MS : HOUR_MS / 4));
  const out: Partial<Record<'sql' | 'node', WayResult>> = {};
  for (const way of ['sql', 'node'] as const) {
    await tx.query('SAVEPOINT way');
    const counts = await insertRangeState(tx, grain, from, to, {
      prepared: false,
      rangeInNode: way === 'node',
    });
    out[way] = { counts, rows: await rangeRows(tx, grain, from) };
    await tx.query('ROLLBACK TO SAVEPOINT way');
  }
  return { sql: out.sql!, node: out.node! };
}

/**
 * Stores `rows` in a transaction that is rolled back, runs `inspect` on them, and computes their hour (or its
 * first quarter) both ways.
 */
async function bothWaysOn(
  db: Database,
  rows: readonly RawRow[],
  grain: 'hour' | 'quarter' = 'hour',
  inspect?: (tx: PoolClient) => Promise<void>,
): Promise<{ sql: WayResult; node: WayResult }> {
  return rolledBack(db, async (tx) => {
    await insertRows(tx, rows);
    await inspect?.(tx);
    return bothWays(tx, grain, HOUR);
  });
}

pgTest('a range added up in Node equals the range statement, row for row, for any raw rows', async (t) => {
  const { db, drop } = await freshPgDatabase();
  t.teardown(drop);
  let compared = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(rawRow(false), { minLength: 1, maxLength: 40 }),
      fc.constantFrom('hour' as const, 'quarter' as const),
      async (rows, grain) => {
        const result = await bothWaysOn(db, rows, grain);
        t.deepEqual(result.node, result.sql);
        compared += 1;
      },
    ),
    { numRuns: 60, seed: 14 },
  );
  t.is(compared, 60);
});

pgTest(
  'rows the accumulator does not mirror (NULL elements) are left to the statement: the same rows',
  async (t) => {
    const { db, drop } = await freshPgDatabase();
    t.teardown(drop);
    const rows = fc.sample(rawRow(true), { numRuns: 80, seed: 3 });
    t.true(rows.some((r) => r.metricValues.includes(null) || r.dimensionValues.includes(null)));
    const result = await bothWaysOn(db, rows);
    t.true(result.sql.rows.length > 0);
    t.deepEqual(result.node, result.sql);
  },
);

pgTest('signed zeros, subnormals and the float8 extremes come out as the statement gives them', async (t) => {
  const { db, drop } = await freshPgDatabase();
  t.teardown(drop);
  const row = (source: string, values: number[]): RawRow => ({
    minute: 1,
    eventType: 'llm_request',
    source,
    metricNames: values.map(() => 'latency_ms'),
    metricValues: values,
    dimensionNames: ['model'],
    dimensionValues: [source],
  });
  const rows = [
    row('only-negative-zero', [-0]),
    row('negative-zero-first', [-0, 0, 5]),
    row('zero-first', [0, -0, 5]),
    row('below-zero', [-0, -5e-324, 5e-324]),
    row('extremes', [Number.MAX_VALUE, -Number.MAX_VALUE, 1e-9, -1e-9, 9.99e-10]),
  ];
  const result = await bothWaysOn(db, rows);
  t.true(result.sql.rows.length > 0);
  t.deepEqual(result.node, result.sql);
});

pgTest(
  'a range of more base groups than MAX_BASE_GROUPS is left to the statement: the same rows',
  async (t) => {
    const { db, drop } = await freshPgDatabase();
    t.teardown(drop);
    const rows = Array.from({ length: MAX_BASE_GROUPS + 1 }, (_, i): RawRow => ({
      minute: i % 60,
      eventType: 'llm_request',
      source: `api-${i % 3}`,
      metricNames: ['latency_ms'],
      metricValues: [i / 10],
      dimensionNames: ['user'],
      dimensionValues: [`user-${i}`],
    }));
    const result = await bothWaysOn(db, rows, 'hour', async (tx) => {
      const added = await accumulateRange(tx, HOUR, new Date(HOUR.getTime() + HOUR_MS));
      t.true(added.unusual);
      t.is(added.rows, MAX_BASE_GROUPS + 1);
    });
    t.is(result.sql.rows.length, MAX_BASE_GROUPS + 1 + 3 + 1);
    t.deepEqual(result.node, result.sql);
  },
);

pgTest(
  'a failure while adding up fails the range once its COPY has ended, and the connection stays usable',
  async (t) => {
    const { db, drop } = await freshPgDatabase();
    t.teardown(drop);
    const rows = fc.sample(rawRow(false), { numRuns: 3000, seed: 5 });
    class Failing extends RangeAccumulator {
      override add(b: Buffer, f: Int32Array): void {
        if (this.rows === 100) throw new Error('adding failed');
        super.add(b, f);
      }
    }
    await db.withClient(async (tx) => {
      await tx.query('BEGIN');
      await insertRows(tx, rows);
      await t.throwsAsync(accumulateRange(tx, HOUR, new Date(HOUR.getTime() + HOUR_MS), new Failing()), {
        message: 'adding failed',
      });
      await tx.query('ROLLBACK');
      const { rows: after } = await tx.query<{ one: number }>('SELECT 1 AS one');
      t.deepEqual(after, [{ one: 1 }]);
    });
  },
);
