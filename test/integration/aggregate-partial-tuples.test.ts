// Partial rows sent as binary COPY tuples (partial-tuples.ts) are stored exactly as the same rows sent as
// text columns through one INSERT, PostgreSQL's own parsing of them — on the real PostgreSQL, as PGlite's
// socket does not speak COPY: any series text, numeric sums of any sign, size and scale (binary numeric is
// where a digit could be lost), -0 and extreme doubles, counts up to 2^53, bins bytes.
import test from 'ava';
import fc from 'fast-check';
import type { PoolClient } from 'pg';
import { PARTIAL_COLUMNS, PartialTuples } from '../../shared/aggregate/partial-tuples.ts';
import { recordPartials } from '../../shared/aggregate/partials-sql.ts';
import {
  PartialColumnRows,
  type PartialFigures,
  type PartialHours,
  type PartialSeries,
} from '../../shared/aggregate/partials.ts';
import { freshPgDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';

const pg = serviceTest('postgres');

const BUCKET_MS = Date.UTC(2026, 11, 6, 20);
const HOURS: PartialHours = { hours: [new Date(BUCKET_MS).toISOString()], rows: [1], complete: [true] };

/** Decimal text as Float8Sums writes it: no leading zeros, a sign only before a non-zero value. */
const decimalText = fc
  .tuple(
    fc.boolean(),
    fc.oneof(fc.constant('0'), fc.stringMatching(/^[1-9][0-9]{0,40}$/)),
    fc.oneof(fc.constant(''), fc.stringMatching(/^[0-9]{1,30}$/)),
  )
  .map(([negative, whole, fraction]) => {
    const text = fraction === '' ? whole : `${whole}.${fraction}`;
    return negative && /[1-9]/.test(text) ? `-${text}` : text;
  });

const text = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !s.includes('\0'));

const row = fc.record({
  series: fc.record({ eventType: text, metric: text, dimension: text, dimensionValue: text }),
  figures: fc.record({
    count: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    sum: decimalText,
    sumSquares: decimalText,
    min: fc.double({ noNaN: true, noDefaultInfinity: true }),
    max: fc.double({ noNaN: true, noDefaultInfinity: true }),
  }),
  bins: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
});

/** bucket … sum_squares: the columns read back as text. */
const TEXT_COLUMNS = PARTIAL_COLUMNS.split(', ').slice(0, 8);

/** A partial row as comparable text (-0 kept apart from 0), in a canonical order of rows. */
type RowText = string[];

const float = (x: number): string => (Object.is(x, -0) ? '-0' : String(x));

function sorted(rows: RowText[]): RowText[] {
  return rows
    .map((r) => [JSON.stringify(r), r] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, r]) => r);
}

async function readBack(client: PoolClient): Promise<RowText[]> {
  const { rows } = await client.query<{ bins: Buffer; min: number; max: number; [column: string]: unknown }>(
    `SELECT bucket::text, event_type, metric, dimension, dimension_value, count::text, sum::text,
            sum_squares::text, min, max, bins
     FROM aggregate_partials`,
  );
  await client.query('DELETE FROM aggregate_partials');
  return sorted(
    rows.map((r) => [
      ...TEXT_COLUMNS.map((c) => r[c] as string),
      float(r.min),
      float(r.max),
      r.bins.toString('hex'),
    ]),
  );
}

pg('partial rows copied as binary tuples are stored as the same rows inserted as text', async (t) => {
  const fresh = await freshPgDatabase();
  t.teardown(() => fresh.drop());
  await fc.assert(
    fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 80 }), async (sample) => {
      const tuples = new PartialTuples();
      const columns = new PartialColumnRows();
      for (const r of sample) {
        tuples.push(BUCKET_MS, r.series as PartialSeries, r.figures as PartialFigures, r.bins);
        columns.push(BUCKET_MS, r.series as PartialSeries, r.figures as PartialFigures, r.bins);
      }
      const [copied, inserted] = await fresh.db.transaction(async (client) => {
        await recordPartials(client, { rows: tuples, hours: HOURS });
        const a = await readBack(client);
        await recordPartials(client, { rows: columns, hours: HOURS });
        return [a, await readBack(client)];
      });
      t.deepEqual(copied, inserted);
      // and each row reads back as what it was written from: sums as the very text, scale included
      const written = sample.map(({ series: s, figures: f, bins }) => [
        '2026-12-06 20:00:00+00',
        s.eventType,
        s.metric,
        s.dimension,
        s.dimensionValue,
        String(f.count),
        f.sum,
        f.sumSquares,
        float(f.min),
        float(f.max),
        bins.toString('hex'),
      ]);
      t.deepEqual(copied, sorted(written));
    }),
    { numRuns: 30 },
  );
});

test('a sum that is not plain decimal text is refused before anything is sent', (t) => {
  const tuples = new PartialTuples();
  const series = { eventType: 'e', metric: 'm', dimension: 'all', dimensionValue: '*' };
  for (const sum of ['1e5', 'NaN', '', '1.', '.5', '+1']) {
    t.throws(
      () =>
        tuples.push(BUCKET_MS, series, { count: 1, sum, sumSquares: '1', min: 1, max: 1 }, Buffer.alloc(0)),
      { message: /is not plain decimal text/ },
      sum,
    );
  }
  t.is(tuples.count, 0);
});
