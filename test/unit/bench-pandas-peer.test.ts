// The benchmark's pandas peer is held to our hourly rows by checkAgainstOurs; these tests hold that check to
// what it promises (a disagreement of any kind is found and named), and the flag and verdicts around it.
// pandas itself is not needed here: its rows are written as bench/peer_pandas.py writes them (CSV cells).
import test from 'ava';
import { judge } from '../../bench/checks.ts';
import { parseArgs } from '../../bench/cli.ts';
import { checkAgainstOurs, pandasWontFit, type PandasMeasurement } from '../../bench/pandas-peer.ts';
import type { SizeResult } from '../../bench/results.ts';
import { runAggregation } from '../../shared/jobs/index.ts';
import { freshEmbeddedDatabase } from '../helpers/db.ts';
import { deps, storeTestEvents } from '../integration/aggregate-fixtures.ts';

const HOUR = '2026-11-20T10:00:00Z';

// latency_ms 10, 20, 30 from api-1 (model a) and 40 from api-2 (model b), within one hour
const EVENTS = [
  { ts: '2026-11-20T10:01:00Z', source: 'api-1', metrics: { latency_ms: 10 }, dims: { model: 'a' } },
  { ts: '2026-11-20T10:02:00Z', source: 'api-1', metrics: { latency_ms: 20 }, dims: { model: 'a' } },
  { ts: '2026-11-20T10:03:00Z', source: 'api-1', metrics: { latency_ms: 30 }, dims: { model: 'a' } },
  { ts: '2026-11-20T10:04:00Z', source: 'api-2', metrics: { latency_ms: 40 }, dims: { model: 'b' } },
];

/** The exact rows pandas computes for EVENTS (count, sum, min, max, mean, sample std, linear quantiles). */
function pandasRows(): Array<Record<string, string>> {
  const row = (dimension: string, value: string, values: number[]): Record<string, string> => {
    const n = values.length;
    const sum = values.reduce((a, b) => a + b, 0);
    const mean = sum / n;
    const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : NaN;
    const q = (p: number): number => {
      const rank = p * (n - 1);
      const lo = Math.floor(rank);
      return values[lo]! + (values[Math.min(lo + 1, n - 1)]! - values[lo]!) * (rank - lo);
    };
    return {
      timestamp: HOUR,
      event_type: 'llm_request',
      metric: 'latency_ms',
      count: String(n),
      sum: String(sum),
      min: String(values[0]),
      max: String(values[n - 1]),
      mean: String(mean),
      std: Number.isNaN(std) ? '' : String(std),
      p50: String(q(0.5)),
      p95: String(q(0.95)),
      p99: String(q(0.99)),
      dimension,
      dimension_value: value,
    };
  };
  return [
    row('all', '*', [10, 20, 30, 40]),
    row('source', 'api-1', [10, 20, 30]),
    row('source', 'api-2', [40]),
    row('model', 'a', [10, 20, 30]),
    row('model', 'b', [40]),
  ];
}

test('the pandas check agrees with our hourly rows and names every kind of disagreement', async (t) => {
  const { db, drop } = await freshEmbeddedDatabase();
  t.teardown(drop);
  await storeTestEvents(db, EVENTS);
  const run = await runAggregation(deps(db), {
    level: 'hour',
    trigger: 'manual',
    now: new Date('2026-11-20T12:00:00Z'),
  });
  t.is(run.status, 'succeeded');

  const same = await checkAgainstOurs(db, pandasRows());
  t.like(same, { pandasRows: 5, ourRows: 5, sampled: 5, missing: 0, mismatchCount: 0 });
  t.deepEqual(same.mismatches, []);
  t.true(
    same.maxQuantileRelError !== null && same.maxQuantileRelError <= 0.01,
    String(same.maxQuantileRelError),
  );

  const rows = pandasRows();
  rows[0]!.count = '5';
  rows[1]!.p95 = String(Number(rows[1]!.p95) * 1.05);
  rows[2]!.std = '1';
  rows[3]!.sum = '61';
  rows[4]!.dimension_value = 'c';
  const off = await checkAgainstOurs(db, rows);
  t.is(off.missing, 1);
  t.is(off.mismatchCount, 5);
  const expected = [
    /all\/\*: count 4 ≠ 5$/,
    /source\/api-1: p95 [\d.]+ vs exact [\d.]+ \([\d.]+ %\)$/,
    /source\/api-2: std null ≠ 1$/,
    /model\/a: sum 60 ≠ 61$/,
    /model\/c: no such row of ours$/,
  ];
  t.is(off.mismatches.length, expected.length, off.mismatches.join('\n'));
  off.mismatches.forEach((m, i) => {
    t.true(m.startsWith(`${HOUR} llm_request latency_ms `), m);
    t.regex(m, expected[i]!);
  });
  const fewer = await checkAgainstOurs(db, pandasRows().slice(0, 4));
  t.is(fewer.mismatchCount, 1, 'a series pandas lacks is a disagreement too');
  t.regex(fewer.mismatches[0] ?? '', /^all rows: 5 hourly rows of ours, 4 of pandas$/);
});

test('--peer pandas is parsed, and its two verdicts judge the speed-up and the numbers', (t) => {
  t.deepEqual(parseArgs(['--quick', '--peer', 'pandas']).peers, ['pandas']);
  t.deepEqual(parseArgs(['--quick']).peers, []);
  t.throws(() => parseArgs(['--peer', 'polars']), { message: /--peer: "polars" is not one of pandas/ });

  const pandas = (ms: number, mismatchCount: number): PandasMeasurement => ({
    version: '3.1.1',
    events: 1000,
    values: 4000,
    ndjsonBytes: 250_000,
    readMs: ms / 2,
    ms,
    peakRssKiB: 512 * 1024,
    check: {
      pandasRows: 10,
      ourRows: 10,
      sampled: 10,
      missing: 0,
      mismatches: [],
      mismatchCount,
      maxQuantileRelError: 0.004,
    },
  });
  const size = (p: PandasMeasurement): SizeResult =>
    ({
      requested: 1000,
      events: 1000,
      totalMs: 0,
      ingest: { busyMs: 400, maxRssKiB: 100 * 1024, vmHwmKiB: 100 * 1024 },
      hourly: { ms: 200, failed: 0 },
      pandas: p,
    }) as unknown as SizeResult;
  const verdicts = (p: PandasMeasurement): Array<[string, boolean | null, number | null]> =>
    judge([size(p)])
      .filter((c) => /pandas/.test(c.name))
      .map((c) => [c.name.replace(/ \(.*$/, ''), c.pass, c.ratio]);
  // ours 600 ms: 1.5× faster than pandas' 900 ms is the line
  t.deepEqual(verdicts(pandas(1000, 0)), [
    ['Events → hourly aggregates', true, 600 / 1000],
    ["Hourly series equal to pandas'", true, null],
  ]);
  t.deepEqual(verdicts(pandas(800, 2)), [
    ['Events → hourly aggregates', false, 600 / 800],
    ["Hourly series equal to pandas'", false, null],
  ]);
});

test('pandas is not started on a size whose estimated peak would not fit in memory', (t) => {
  const gib = 2 ** 30;
  t.is(pandasWontFit(1_000_000, 23.5 * gib), undefined, '1M events: ~0.4 GiB');
  t.is(pandasWontFit(10_000_000, 23.5 * gib), undefined, '10M events: ~3.8 GiB');
  t.is(
    pandasWontFit(10_000_000, 4 * gib),
    'pandas would need ~3.8 GiB for 10000000 events (0.4 KiB each, measured); this machine has 4.0 GiB',
  );
  t.is(
    pandasWontFit(100_000_000, 23.5 * gib),
    'pandas would need ~38.1 GiB for 100000000 events (0.4 KiB each, measured); this machine has 23.5 GiB',
  );
});
