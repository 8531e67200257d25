// The SQL fragments of shared/sketch/sql.ts must give bit-identical keys, boundaries, representatives and
// quantiles to the TypeScript sketch for the same float8 inputs. Runs on in-memory PGlite; when
// TEST_DATABASE_URL is set (scripts/services env) it runs the same checks against the real PostgreSQL too.
import { PGlite } from '@electric-sql/pglite';
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import pg from 'pg';
import {
  GAMMA,
  LN_GAMMA,
  MAX_KEY,
  MIN_INDEXABLE,
  MIN_KEY,
  QuantileSketch,
  keyBoundary,
  keyValue,
  sketchKey,
  sqlBinArrays,
  sqlKey,
  sqlKeyBoundary,
  sqlKeyValue,
  sqlQuantileQuery,
  sqlSign,
  sqlSortedBinQuantiles,
} from '../../shared/sketch/index.ts';

type Query = <R>(sql: string, params?: unknown[]) => Promise<R[]>;

function ulpStep(x: number, steps: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigInt64(0);
  // For positive finite floats the bit pattern is monotone in the value.
  view.setBigInt64(0, bits + BigInt(steps));
  return view.getFloat64(0);
}

function near(x: number, span = 3): number[] {
  const out: number[] = [];
  for (let s = -span; s <= span; s++) out.push(ulpStep(x, s));
  return out.filter((v) => Number.isFinite(v) && v > 0);
}

function parityValues(): number[] {
  const values = new Set<number>([
    0,
    -0,
    1,
    -1,
    0.5,
    2,
    1e-10,
    -1e-10,
    5e-324,
    2.2250738585072014e-308,
    ...near(MIN_INDEXABLE),
    ...near(MIN_INDEXABLE).map((v) => -v),
    1e12,
    -1e12,
    1e15,
    123456789.123,
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    ...near(Number.MAX_VALUE).filter((v) => v <= Number.MAX_VALUE),
  ]);
  // Every bucket boundary up to 1e12 (and a stride above), as computed by keyBoundary, Math.pow and exp,
  // plus a few ulps either side: the places where a bare ceil(ln(x)/ln γ) flips between engines.
  for (let k = MIN_KEY - 1; k < MAX_KEY; k += k < 1400 ? 1 : 97) {
    for (const b of [keyBoundary(k), Math.pow(GAMMA, k), Math.exp(k * LN_GAMMA)]) {
      for (const v of near(b, 2)) {
        values.add(v);
        if (k % 5 === 0) values.add(-v);
      }
    }
  }
  for (const v of fc.sample(fc.double({ noNaN: true, noDefaultInfinity: true }), {
    numRuns: 3000,
    seed: 42,
  })) {
    values.add(v);
  }
  for (const v of fc.sample(fc.double({ min: -30, max: 30, noNaN: true }), { numRuns: 3000, seed: 7 })) {
    values.add(Math.exp(v));
    values.add(-Math.exp(v) * 1000);
  }
  return [...values];
}

async function checkKeys(t: ExecutionContext, query: Query): Promise<void> {
  const values = parityValues();
  const rows = await query<{ x: number; sign: number; key: number }>(
    `SELECT x, ${sqlSign('x')} AS sign, ${sqlKey('x')} AS key FROM unnest($1::float8[]) WITH ORDINALITY AS t(x, ord) ORDER BY ord`,
    [values],
  );
  t.is(rows.length, values.length);
  let mismatches = 0;
  const examples: string[] = [];
  rows.forEach((row, i) => {
    const input = values[i] as number;
    const expected = sketchKey(input);
    if (!Object.is(row.x, input) && !(input === 0 && row.x === 0)) {
      mismatches++;
      examples.push(`value ${input} came back as ${row.x}`);
    } else if (row.sign !== expected.sign || row.key !== expected.key) {
      mismatches++;
      if (examples.length < 10) {
        examples.push(`x=${input}: SQL (${row.sign}, ${row.key}) vs TS (${expected.sign}, ${expected.key})`);
      }
    }
  });
  t.is(mismatches, 0, examples.join('\n'));
  t.log(`${values.length} values compared`);

  // Show why the exact-boundary step exists: how often does the naive formula disagree on these values?
  const naive = await query<{ x: number; key: number }>(
    `SELECT x, ceil(ln(abs(x)) / '${LN_GAMMA}'::float8)::int AS key FROM unnest($1::float8[]) AS t(x) WHERE abs(x) >= 1e-9`,
    [values],
  );
  const naiveMismatches = naive.filter((r) => r.key !== Math.ceil(Math.log(Math.abs(r.x)) / LN_GAMMA)).length;
  t.log(`naive ceil(ln(|x|)/ln γ) would disagree between SQL and Node on ${naiveMismatches} of these values`);
}

async function checkBoundariesAndValues(t: ExecutionContext, query: Query): Promise<void> {
  const rows = await query<{ k: number; boundary: number; pos: number; neg: number }>(
    `SELECT k, ${sqlKeyBoundary('k - 1')} AS boundary, ${sqlKeyValue('1', 'k')} AS pos,
            ${sqlKeyValue('-1', 'k')} AS neg
     FROM generate_series(${MIN_KEY}, ${MAX_KEY}) AS k ORDER BY k`,
  );
  t.is(rows.length, MAX_KEY - MIN_KEY + 1);
  const bad = rows.filter(
    (r) =>
      !Object.is(r.boundary, keyBoundary(r.k - 1)) ||
      !Object.is(r.pos, keyValue(1, r.k)) ||
      !Object.is(r.neg, keyValue(-1, r.k)),
  );
  t.deepEqual(bad.slice(0, 5), []);
  const zero = await query<{ v: number }>(`SELECT ${sqlKeyValue('0', '0')} AS v`);
  t.is(zero[0]?.v, 0);
}

function datasets(): Record<string, number[]> {
  const rand = fc.sample(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), {
    numRuns: 6000,
    seed: 3,
  });
  const normal = (i: number) => {
    const u1 = Math.max(rand[i % rand.length] as number, 1e-12);
    const u2 = rand[(i * 7 + 1) % rand.length] as number;
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  };
  return {
    uniform: rand.slice(0, 3000).map((u) => 1 + u * 999),
    latency: Array.from({ length: 3000 }, (_, i) => Math.exp(5 + 0.8 * normal(i))),
    constant: Array.from({ length: 50 }, () => 812.5),
    zero_heavy: Array.from({ length: 1000 }, (_, i) => (i % 3 === 0 ? 3 + (rand[i] as number) * 50 : 0)),
    negatives: rand.slice(0, 1500).map((u) => -1 - u * 1e6),
    mixed: rand.slice(0, 2000).map((u) => (u - 0.4) * 200),
  };
}

async function checkQuantiles(t: ExecutionContext, query: Query): Promise<void> {
  const data = datasets();
  const series: string[] = [];
  const xs: number[] = [];
  for (const [name, values] of Object.entries(data)) {
    for (const x of values) {
      series.push(name);
      xs.push(x);
    }
  }
  // Bins are deliberately split by ord parity: two partial states per (series, sign, key) that the template merges.
  const source = `(SELECT s AS series, x, ord FROM unnest($1::text[], $2::float8[]) WITH ORDINALITY AS t(s, x, ord))`;
  const bins = `(SELECT series, ${sqlSign('x')} AS sign, ${sqlKey('x')} AS key, count(*) AS count
    FROM ${source} AS e GROUP BY series, ord % 2, 2, 3)`;
  const bounds = `(SELECT series, min(x) AS min, max(x) AS max FROM ${source} AS e2 GROUP BY series)`;
  const sql = `SELECT q.*, pc.c50, pc.c95, pc.c99 FROM (${sqlQuantileQuery({ bins, groupBy: ['series'], bounds: { relation: bounds } })}) AS q
    JOIN (SELECT series, percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS c50,
                 percentile_cont(0.95) WITHIN GROUP (ORDER BY x) AS c95,
                 percentile_cont(0.99) WITHIN GROUP (ORDER BY x) AS c99
          FROM ${source} AS e3 GROUP BY series) AS pc USING (series) ORDER BY series`;
  const rows = await query<Record<string, number | string>>(sql, [series, xs]);
  t.is(rows.length, Object.keys(data).length);
  for (const row of rows) {
    const values = data[row.series as string] as number[];
    const sketch = new QuantileSketch();
    for (const x of values) sketch.add(x);
    t.is(Number(row.count), values.length);
    for (const [column, q, cont] of [
      ['p50', 0.5, 'c50'],
      ['p95', 0.95, 'c95'],
      ['p99', 0.99, 'c99'],
    ] as const) {
      t.is(row[column], sketch.quantile(q), `${String(row.series)} ${column}`);
      const pc = row[cont] as number;
      // Within α of percentile_cont, weighted over the two neighbours it interpolates.
      const sorted = [...values].sort((a, b) => a - b);
      const rank = q * (values.length - 1);
      const f = rank - Math.floor(rank);
      const lo = sorted[Math.floor(rank)] as number;
      const hi = sorted[Math.ceil(rank)] as number;
      const estimate = row[column] as number;
      t.true(
        Math.abs(estimate - pc) <= 0.01 * ((1 - f) * Math.abs(lo) + f * Math.abs(hi)) + 1e-9,
        `${String(row.series)} ${column}: ${estimate} vs ${pc}`,
      );
    }
  }
  // A single series needs no group columns.
  const single = await query<{ count: string | number; p50: number }>(
    sqlQuantileQuery({ bins: `(SELECT 1::smallint AS sign, ${sqlKey('100')} AS key, 3::bigint AS count)` }),
  );
  t.is(Number(single[0]?.count), 3);
  t.is(single[0]?.p50, keyValue(1, sketchKey(100).key));
}

// The stored layout (sorted bin arrays per series, sqlBinArrays) and the quantiles read off it
// (sqlSortedBinQuantiles, clamped as aggregate_state is) equal the TypeScript sketch's bins and quantiles.
async function checkSortedBinQuantiles(t: ExecutionContext, query: Query): Promise<void> {
  const data: Record<string, number[]> = { ...datasets(), one: [7.25], two: [-3, 1e-12] };
  const series = Object.entries(data).flatMap(([name, values]) => values.map(() => name));
  const xs = Object.values(data).flat();
  const source = `unnest($1::text[], $2::float8[]) AS e(series, x)`;
  const sql = `WITH bins AS (
      SELECT series, ${sqlSign('x')} AS sign, ${sqlKey('x')} AS key, count(*)::bigint AS count FROM ${source} GROUP BY 1, 2, 3
    ), arrays AS (
      SELECT series, ${sqlBinArrays('sign', 'key', 'count')} FROM bins GROUP BY series
    ), bounds AS (SELECT series, min(x) AS min, max(x) AS max FROM ${source} GROUP BY series)
    SELECT a.series, a.signs, a.keys, a.counts, least(greatest(q.p50, b.min), b.max) AS p50,
           least(greatest(q.p95, b.min), b.max) AS p95, least(greatest(q.p99, b.min), b.max) AS p99
    FROM arrays AS a JOIN bounds AS b USING (series)
    CROSS JOIN LATERAL ${sqlSortedBinQuantiles({ signs: 'a.signs', keys: 'a.keys', counts: 'a.counts' })} AS q
    ORDER BY a.series`;
  const rows = await query<{
    series: string;
    signs: number[];
    keys: number[];
    counts: (string | number)[];
    p50: number;
    p95: number;
    p99: number;
  }>(sql, [series, xs]);
  t.is(rows.length, Object.keys(data).length);
  for (const row of rows) {
    const sketch = new QuantileSketch();
    for (const x of data[row.series] ?? []) sketch.add(x);
    const bins = sketch.toBins();
    t.deepEqual(
      { signs: row.signs, keys: row.keys, counts: row.counts.map(Number) },
      { signs: bins.map((b) => b.sign), keys: bins.map((b) => b.key), counts: bins.map((b) => b.count) },
      row.series,
    );
    t.deepEqual(
      [row.p50, row.p95, row.p99],
      [sketch.quantile(0.5), sketch.quantile(0.95), sketch.quantile(0.99)],
      row.series,
    );
  }
}

async function runAll(t: ExecutionContext, query: Query): Promise<void> {
  await checkKeys(t, query);
  await checkBoundariesAndValues(t, query);
  await checkQuantiles(t, query);
  await checkSortedBinQuantiles(t, query);
}

test('SQL sketch fragments match TypeScript bit for bit (PGlite)', async (t) => {
  const db = await new PGlite();
  try {
    await runAll(t, async (sql, params) => (await db.query(sql, params)).rows as never);
  } finally {
    await db.close();
  }
});

const databaseUrl = process.env.TEST_DATABASE_URL;
(databaseUrl ? test : test.skip)(
  `SQL sketch fragments match TypeScript bit for bit (PostgreSQL${databaseUrl ? '' : ': set TEST_DATABASE_URL'})`,
  async (t) => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await runAll(t, async (sql, params) => (await client.query(sql, params)).rows as never);
    } finally {
      await client.end();
    }
  },
);
