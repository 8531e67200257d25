// The pandas peer (`npm run bench -- --peer pandas`): the same events as NDJSON (the bytes produced to Kafka,
// one per line; untimed setup), read and turned into the same hourly series by bench/peer_pandas.py in a venv
// with pandas from PyPI. Its wall time and peak RSS stand beside ours (ingest + hourly job), and its numbers
// are held to ours: the series rows must be the same set and a sample of them must agree — counts exactly,
// sums, min, max, mean and std as doubles, p50/p95/p99 within the sketch's 1 % of pandas' exact quantiles.
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import type { DemoEvent } from '../runtime/demo/generate.ts';
import type { Queryable } from '../shared/db/index.ts';
import type { SeriesRow } from '../shared/reports/builders/summary-sql.ts';
import { runCommand, venvPython } from './python-venv.ts';

export const PANDAS_VERSION = '3.1.1';
const SCRIPT = fileURLToPath(new URL('./peer_pandas.py', import.meta.url));
/** Series rows compared field by field (spread evenly over pandas' rows). */
const SAMPLE_ROWS = 500;
/**
 * The sketch's guarantee for p50/p95/p99 against the exact value: 1 %, reached exactly at a bin's edge (the
 * 100k run's p99 of an hour's error flags is 0.99 for an exact 1), so a rounding's worth is allowed above it.
 */
const QUANTILE_REL_ERROR = 0.01 + 1e-9;
/** Two float64 paths over the same values (exact numeric sums vs pandas' float64 sums). */
const FLOAT_REL_ERROR = 1e-9;
const STD_REL_ERROR = 1e-6;

/**
 * pandas' peak RSS per event, measured: 390 MiB for 1,000,946 events (pandas 3.1.1, bench/peer_pandas.py reading
 * in chunks; 145 MiB for 100,342). What is kept grows with the events (the compact frames, then grouping the
 * largest type's), so 10M events want ~3.8 GiB — an overestimate, as ~120 MiB of it (the interpreter, pandas, one
 * chunk) does not grow: the 10M run peaked at 2,911 MiB. pandasWontFit() refuses a size whose estimate would not fit, before the machine starts
 * swapping or the kernel kills a process of someone else's.
 */
const PANDAS_KIB_PER_EVENT = 0.4;

/** Why pandas cannot run on `events` here (its estimated peak over 80 % of the memory), or undefined. */
export function pandasWontFit(events: number, totalBytes = totalmem()): string | undefined {
  const needed = events * PANDAS_KIB_PER_EVENT * 1024;
  if (needed <= 0.8 * totalBytes) return undefined;
  const gib = (b: number): string => (b / 2 ** 30).toFixed(1);
  return `pandas would need ~${gib(needed)} GiB for ${events} events (${PANDAS_KIB_PER_EVENT} KiB each, measured); this machine has ${gib(totalBytes)} GiB`;
}

export interface PandasCheck {
  /** Series rows of pandas and of hourly_aggregations. */
  pandasRows: number;
  ourRows: number;
  sampled: number;
  /** Sampled rows with no row of ours (or the other way round: ourRows ≠ pandasRows). */
  missing: number;
  /** The first disagreements, e.g. "2026-11-22T03:00:00Z llm_request latency_ms model/x: count 12 ≠ 13". */
  mismatches: string[];
  mismatchCount: number;
  maxQuantileRelError: number | null;
}

export interface PandasMeasurement {
  version: string;
  events: number;
  /** Metric values (event × metric) pandas grouped. */
  values: number;
  ndjsonBytes: number;
  /** Reading the NDJSON into compact frames, chunk by chunk (parsing, cost inference, cutting down). */
  readMs: number;
  /** Reading and computing every series, in the Python process (imports not counted). */
  ms: number;
  peakRssKiB: number;
  check: PandasCheck;
}

interface PeerOutput {
  events: number;
  values: number;
  rows: number;
  read_seconds: number;
  seconds: number;
  peak_rss_kib: number;
  pandas: string;
}

type Row = Record<string, string>;

async function writeNdjson(events: Iterable<DemoEvent>, path: string): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  for (const event of events) {
    const line = `${JSON.stringify(event)}\n`;
    bytes += Buffer.byteLength(line);
    if (!out.write(line)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.end(() => resolve());
  });
  return bytes;
}

/** A row of hourly_aggregations (the report builders' series row, with its hour and stddev). */
type OurRow = SeriesRow & { timestamp: Date; stddev: number | null };

const keyOf = (ts: string, type: string, metric: string, dim: string, value: string): string =>
  [ts, type, metric, dim, value].join('\u0000');

/** Our hourly rows for the sampled keys, and how many hourly rows there are in all. */
async function ourHourlyRows(db: Queryable, sample: Row[]): Promise<{ rows: OurRow[]; total: number }> {
  const col = (name: string): string[] => sample.map((r) => r[name] ?? '');
  const { rows } = await db.query<OurRow>(
    `SELECT h."timestamp", h.event_type, h.metric, h.dimension, h.dimension_value, h.count, h.sum, h.min, h.max,
            h.avg, h.stddev, h.p50, h.p95, h.p99
       FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[])
            AS k(ts, event_type, metric, dimension, dimension_value)
       JOIN hourly_aggregations h
         ON h."timestamp" = k.ts AND h.event_type = k.event_type AND h.metric = k.metric
        AND h.dimension = k.dimension AND h.dimension_value = k.dimension_value`,
    [col('timestamp'), col('event_type'), col('metric'), col('dimension'), col('dimension_value')],
  );
  const { rows: count } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM hourly_aggregations');
  return { rows, total: count[0]?.n ?? 0 };
}

const relError = (ours: number, exact: number): number =>
  Math.abs(ours - exact) / Math.max(Math.abs(exact), Number.MIN_VALUE);

/** Holds a sample of pandas' rows to ours; see the header for the tolerances. */
export async function checkAgainstOurs(db: Queryable, pandasRows: Row[]): Promise<PandasCheck> {
  const step = Math.max(1, Math.floor(pandasRows.length / SAMPLE_ROWS));
  const sample = pandasRows.filter((_, i) => i % step === 0).slice(0, SAMPLE_ROWS);
  const { rows, total } = await ourHourlyRows(db, sample);
  const ours = new Map(
    rows.map((r) => [
      keyOf(
        r.timestamp.toISOString().replace('.000Z', 'Z'),
        r.event_type,
        r.metric,
        r.dimension,
        r.dimension_value,
      ),
      r,
    ]),
  );
  const check: PandasCheck = {
    pandasRows: pandasRows.length,
    ourRows: total,
    sampled: sample.length,
    missing: 0,
    mismatches: [],
    mismatchCount: 0,
    maxQuantileRelError: null,
  };
  const disagree = (label: string, what: string): void => {
    check.mismatchCount += 1;
    if (check.mismatches.length < 10) check.mismatches.push(`${label}: ${what}`);
  };
  for (const p of sample) {
    const label = `${p.timestamp} ${p.event_type} ${p.metric} ${p.dimension}/${p.dimension_value}`;
    const o = ours.get(keyOf(p.timestamp!, p.event_type!, p.metric!, p.dimension!, p.dimension_value!));
    if (!o) {
      check.missing += 1;
      disagree(label, 'no such row of ours');
      continue;
    }
    const num = (name: string): number => Number(p[name]);
    if (o.count !== num('count')) disagree(label, `count ${o.count} ≠ ${p.count}`);
    const close: Array<[string, number, number, number]> = [
      ['sum', o.sum, num('sum'), FLOAT_REL_ERROR],
      ['min', o.min ?? NaN, num('min'), FLOAT_REL_ERROR],
      ['max', o.max ?? NaN, num('max'), FLOAT_REL_ERROR],
      ['mean', o.avg ?? NaN, num('mean'), FLOAT_REL_ERROR],
    ];
    for (const [field, mine, theirs, tolerance] of close) {
      // written so that a NULL of ours (NaN) disagrees
      if (!(Math.abs(mine - theirs) <= tolerance * Math.max(1, Math.abs(theirs))))
        disagree(label, `${field} ${mine} ≠ ${theirs}`);
    }
    // pandas' std of one value is NaN (empty in the CSV); ours is NULL
    const std = p.std === '' ? null : num('std');
    if ((o.stddev === null) !== (std === null)) disagree(label, `std ${o.stddev} ≠ ${p.std}`);
    else if (o.stddev !== null && std !== null && Math.abs(o.stddev - std) > STD_REL_ERROR * Math.max(1, std))
      disagree(label, `std ${o.stddev} ≠ ${std}`);
    for (const q of ['p50', 'p95', 'p99'] as const) {
      const exact = num(q);
      const mine = o[q] ?? NaN;
      const err = exact === 0 ? Math.abs(mine) : relError(mine, exact);
      if (Number.isFinite(err)) check.maxQuantileRelError = Math.max(check.maxQuantileRelError ?? 0, err);
      if (!(err <= QUANTILE_REL_ERROR))
        disagree(label, `${q} ${mine} vs exact ${exact} (${(err * 100).toFixed(2)} %)`);
    }
  }
  if (check.ourRows !== check.pandasRows)
    disagree('all rows', `${check.ourRows} hourly rows of ours, ${check.pandasRows} of pandas`);
  return check;
}

/** Runs the peer on `events` (the size's stream, generated again) and checks its numbers against `db`'s. */
export async function measurePandas(
  db: Queryable,
  events: Iterable<DemoEvent>,
  dimensionKeys: readonly string[],
  /** The price table the ingest ran with (pricing.models entries), so that both infer the same costs. */
  prices: readonly object[],
  log: (line: string) => void,
): Promise<PandasMeasurement> {
  const python = await venvPython('pandas', PANDAS_VERSION, log);
  const dir = await mkdtemp(join(tmpdir(), 'hxp-bench-pandas-'));
  try {
    const ndjson = join(dir, 'events.ndjson');
    const csv = join(dir, 'hourly.csv');
    const written = performance.now();
    const ndjsonBytes = await writeNdjson(events, ndjson);
    log(
      `  wrote ${(ndjsonBytes / 2 ** 20).toFixed(0)} MiB of NDJSON in ${((performance.now() - written) / 1000).toFixed(1)} s (untimed)`,
    );
    const out = JSON.parse(
      await runCommand(python, [SCRIPT, ndjson, dimensionKeys.join(','), JSON.stringify(prices), csv], true),
    ) as PeerOutput;
    const pandasRows = parse(await readFile(csv), { columns: true }) as Row[];
    return {
      version: out.pandas,
      events: out.events,
      values: out.values,
      ndjsonBytes,
      readMs: out.read_seconds * 1000,
      ms: out.seconds * 1000,
      peakRssKiB: out.peak_rss_kib,
      check: await checkAgainstOurs(db, pandasRows),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
