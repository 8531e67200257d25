// The retention library's pure pieces: the binary COPY decoder (any chunking), the figures and their
// tolerance, exact decimal sums, cutoffs, manifests, the archived-day check of the event contract.
import test from 'ava';
import fc from 'fast-check';
import { ArchivedDays, normalizeEvent } from '../../shared/events/index.ts';
import { normalizePlainEvent } from '../../shared/events/normalize-plain.ts';
import { readTimestampMicros } from '../../shared/db/binary-copy.ts';
import { BinaryCopyDecoder } from '../../shared/db/binary-copy-decoder.ts';
import { DecimalSum, normalizeDecimal } from '../../shared/retention/decimal.ts';
import { manifestKey, partKey, rawDayFolder, aggregateFolder } from '../../shared/retention/layout.ts';
import {
  parseManifest,
  rawFigures,
  rawStatsOf,
  manifestBytes,
  type RawManifest,
} from '../../shared/retention/manifest.ts';
import { cutoffsAt, dayStart } from '../../shared/retention/policy.ts';
import {
  isoMicros,
  microsOfIso,
  rawStatsDifferences,
  RawStatsBuilder,
} from '../../shared/retention/raw-stats.ts';
import { restoreDays } from '../../shared/retention/restore.ts';
import { testPolicy } from '../fixtures/retention.ts';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** A binary COPY stream of two-field tuples (a text and a timestamp). */
function copyStream(rows: readonly [string, bigint][]): Buffer {
  const parts: Buffer[] = [SIGNATURE, Buffer.from([0, 0, 0, 0, 0, 0, 0, 0])];
  for (const [text, micros] of rows) {
    const field = Buffer.from(text, 'utf8');
    const head = Buffer.alloc(6);
    head.writeInt16BE(2, 0);
    head.writeInt32BE(field.length, 2);
    const ts = Buffer.alloc(12);
    ts.writeInt32BE(8, 0);
    ts.writeBigInt64BE(micros - 946_684_800_000_000n, 4);
    parts.push(head, field, ts);
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

test('binary COPY: the same tuples whatever the chunk boundaries, and a truncated stream is refused', (t) => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          // some tuples longer than the decoder's first join (4 KiB), so completing one takes several tries
          fc.oneof(fc.string(), fc.string({ minLength: 3000, maxLength: 9000 })),
          fc.bigInt({ min: 0n, max: 4_000_000_000_000_000n }),
        ),
        { maxLength: 20 },
      ),
      fc.array(fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 12_000 })), {
        minLength: 1,
        maxLength: 30,
      }),
      (rows, cuts) => {
        const stream = copyStream(rows);
        const seen: [string, number][] = [];
        const decoder = new BinaryCopyDecoder(2, (b, f) => {
          seen.push([b.toString('utf8', f[0], f[0]! + f[1]!), readTimestampMicros(b, f[2]!)]);
        });
        let at = 0;
        for (let i = 0; at < stream.length; i++) {
          const size = cuts[i % cuts.length]!;
          decoder.push(stream.subarray(at, at + size));
          at += size;
        }
        decoder.finish();
        t.deepEqual(
          seen,
          rows.map(([s, m]) => [s, Number(m)]),
        );
      },
    ),
  );
  const truncated = new BinaryCopyDecoder(2, () => undefined);
  truncated.push(copyStream([['a', 1n]]).subarray(0, 30));
  t.throws(() => truncated.finish(), { message: /without its trailer after 0 tuples/ });
  t.throws(() => new BinaryCopyDecoder(2, () => undefined).push(Buffer.from('not a copy stream at all')), {
    message: /PGCOPY signature/,
  });
});

test('figures: counts, span, min and max must match; sums within the rounding of their additions', (t) => {
  const values = [0.1, 0.2, 0.3, 1e-9, 12345.678];
  const a = new RawStatsBuilder();
  const b = new RawStatsBuilder();
  for (const v of values) RawStatsBuilder.metric(a.row('x', 10), 'm', v);
  for (const v of [...values].reverse()) RawStatsBuilder.metric(b.row('x', 10), 'm', v);
  t.deepEqual(rawStatsDifferences(a.build(), b.build(), 'copy'), []);
  const shifted = b.build();
  shifted.types.x!.metrics.m!.sum += 1e-6;
  t.deepEqual(rawStatsDifferences(a.build(), shifted, 'copy'), [
    `copy: "x"."m" sums to ${shifted.types.x!.metrics.m!.sum}, expected ${a.build().types.x!.metrics.m!.sum}`,
  ]);
  const fewer = new RawStatsBuilder();
  RawStatsBuilder.metric(fewer.row('x', 10), 'm', 0.1);
  t.regex(rawStatsDifferences(a.build(), fewer.build(), 'copy').join('\n'), /copy has 1 rows, expected 5/);
  t.is(isoMicros(1_790_000_000_123_456), '2026-09-21T14:13:20.123456Z');
  t.is(microsOfIso(isoMicros(1_790_000_000_123_456)), 1_790_000_000_123_456);
});

test('decimal sums are exact and normalised', (t) => {
  const sum = new DecimalSum();
  for (const v of ['0.1', '0.2', '-0.30', '12345678901234567890.000000000000000001', '7']) sum.add(v);
  t.is(sum.toString(), '12345678901234567897.000000000000000001');
  t.is(normalizeDecimal('-0.000'), '0');
  t.is(normalizeDecimal('10.500'), '10.5');
  t.throws(() => sum.add('1e5'), { message: /not a plain decimal/ });
});

test('cutoffs follow the settings; a raw day goes when its whole day is past the cutoff', (t) => {
  const policy = testPolicy({
    BATCH_PROCESSING_RAW_DATA_RETENTION_DAYS: '30',
    BATCH_PROCESSING_WEEKLY_AGGREGATES_RETENTION_DAYS: '800',
  });
  const now = new Date('2026-11-05T00:30:00Z');
  const cutoffs = cutoffsAt(policy, now);
  t.is(cutoffs.raw.toISOString(), '2026-10-06T00:30:00.000Z');
  t.is(cutoffs.aggregate.hour.toISOString(), '2025-11-05T00:30:00.000Z');
  t.is(cutoffs.aggregate.day.toISOString(), '2025-11-05T00:30:00.000Z');
  t.is(cutoffs.aggregate.week.toISOString(), '2024-08-27T00:30:00.000Z');
  t.is(cutoffs.deadLetters.toISOString(), '2026-08-07T00:30:00.000Z');
  t.is(policy.restoredKeepDays, 7);
  t.true(dayStart('2026-10-05').getTime() + 86_400_000 <= cutoffs.raw.getTime());
  t.false(dayStart('2026-10-06').getTime() + 86_400_000 <= cutoffs.raw.getTime());
});

test('a key retention shorter than the raw retention plus the skew is refused at start', (t) => {
  const err = t.throws(() =>
    testPolicy({
      BATCH_PROCESSING_RAW_DATA_RETENTION_DAYS: '30',
      BATCH_PROCESSING_DEDUP_KEYS_RETENTION_DAYS: '20',
    }),
  );
  t.regex(err?.message ?? '', /BATCH_PROCESSING_DEDUP_KEYS_RETENTION_DAYS.*must be at least 31/);
});

test('keys and manifests', (t) => {
  t.is(partKey(rawDayFolder('2026-10-01'), 7), 'raw/date=2026-10-01/part-0007.parquet');
  t.is(manifestKey(aggregateFolder('hour', '2026-10')), 'aggregates/level=hour/month=2026-10/manifest.json');
  const builder = new RawStatsBuilder();
  RawStatsBuilder.metric(builder.row('llm_request', 1_790_000_000_000_001), 'latency_ms', 812);
  const manifest: RawManifest = {
    kind: 'raw',
    schema: 'raw_events',
    manifest_version: 1,
    schema_version: 1,
    day: '2026-10-01',
    range: { from: '2026-10-01T00:00:00.000Z', to: '2026-10-02T00:00:00.000Z' },
    run_id: 3,
    created_at: '2026-11-05T00:30:00.000Z',
    codec: 'GZIP',
    objects: [{ key: 'raw/date=2026-10-01/part-0000.parquet', rows: 1, bytes: 100, sha256: 'a'.repeat(64) }],
    ...rawFigures(builder.build()),
  };
  const parsed = parseManifest(manifestBytes(manifest), 'm.json');
  t.deepEqual(parsed, manifest);
  t.deepEqual(rawStatsOf(parsed as RawManifest), builder.build());
  t.throws(() => parseManifest(Buffer.from('{"kind":"raw"}'), 'x/manifest.json'), {
    message: /x\/manifest.json is not a manifest/,
  });
  t.throws(() => parseManifest(Buffer.from('nope'), 'y'), { message: /y is not JSON/ });
});

test('restore ranges: both days included, checked', (t) => {
  t.deepEqual(restoreDays('2026-10-30', '2026-11-02'), [
    '2026-10-30',
    '2026-10-31',
    '2026-11-01',
    '2026-11-02',
  ]);
  t.throws(() => restoreDays('2026-02-30', '2026-03-01'), { message: /"from" is "2026-02-30": not a day/ });
});

test('an event on an archived day is refused with EVENT_DAY_ARCHIVED on the plain and the general path', (t) => {
  const archivedDays = new ArchivedDays([
    { day: '2026-10-01', archived: true },
    { day: '2026-10-02', archived: false },
    { day: '2026-10-04', archived: true, restored: true },
  ]);
  const context = {
    receivedAt: new Date('2026-10-20T00:00:00Z'),
    limits: { maxEventBytes: 65536, maxFields: 256, maxFutureSkewMs: 300_000, rawRetentionDays: 30 },
    archivedDays,
  };
  const event = (ts: string) =>
    Buffer.from(JSON.stringify({ event_type: 'llm_request', timestamp: ts, data: { latency_ms: 5 } }));
  t.is(
    normalizePlainEvent(event('2026-10-01T10:00:00.000Z'), context),
    undefined,
    'the fast path leaves it to the general one',
  );
  const refused = normalizeEvent(event('2026-10-01T10:00:00.000Z'), context);
  t.false(refused.ok);
  if (!refused.ok) {
    t.is(refused.rejection.code, 'EVENT_DAY_ARCHIVED');
    t.regex(
      refused.rejection.reason,
      /falls on 2026-10-01, a day whose raw events are archived \(raw\/date=2026-10-01\/\)/,
    );
    // the advice is what works: restoring a day brings its events back for reading and recomputing, never
    // for new ones (their idempotency keys expired with the day, so a resent event would count twice)
    t.notRegex(refused.rejection.reason, /send the event again/);
    t.regex(refused.rejection.reason, /events for it are no longer stored/);
  }
  // a restored day does not take events either
  const restored = normalizeEvent(event('2026-10-04T10:00:00.000Z'), context);
  t.is(restored.ok ? undefined : restored.rejection.code, 'EVENT_DAY_ARCHIVED');
  t.regex(restored.ok ? '' : restored.rejection.reason, /restored for reading until it is dropped again/);
  const deleted = normalizeEvent(event('2026-10-02T10:00:00.000Z'), context);
  t.regex(deleted.ok ? '' : deleted.rejection.reason, /the retention sweep deleted \(archival was off\)/);
  t.truthy(normalizePlainEvent(event('2026-10-03T10:00:00.000Z'), context), 'other days pass');
  t.true(normalizeEvent(event('2026-10-03T10:00:00.000Z'), context).ok);
  t.is(archivedDays.dayOf(Date.parse('2026-10-05T00:00:00Z')), undefined);
});
