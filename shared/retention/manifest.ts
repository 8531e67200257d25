// manifest.json, written beside the Parquet files of every archived unit, after them: what the unit holds
// (rows, time span, rows per event type, per-metric figures), every object with its size, rows and SHA-256,
// the schema version and the run that wrote it. A reader — verification, restore, or a person — needs
// nothing else to know whether the files are whole.
import { z } from 'zod';
import { isoMicros, microsOfIso, type RawStats } from './raw-stats.ts';

export const MANIFEST_VERSION = 1;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a hex SHA-256');
const isoInstant = z.iso.datetime({ offset: true });

export const ManifestObject = z.object({
  key: z.string(),
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  sha256,
});
export type ManifestObject = z.infer<typeof ManifestObject>;

const MetricFigures = z.object({
  count: z.number().int().nonnegative(),
  sum: z.number(),
  abs_sum: z.number().nonnegative(),
  min: z.number(),
  max: z.number(),
});

const RawFigures = z.object({
  rows: z.number().int().nonnegative(),
  min_timestamp: z.string().nullable(),
  max_timestamp: z.string().nullable(),
  event_types: z.record(
    z.string(),
    z.object({ rows: z.number().int().nonnegative(), metrics: z.record(z.string(), MetricFigures) }),
  ),
});

const common = {
  manifest_version: z.literal(MANIFEST_VERSION),
  schema_version: z.number().int().positive(),
  range: z.object({ from: isoInstant, to: isoInstant }),
  run_id: z.number().int(),
  created_at: isoInstant,
  codec: z.string(),
  objects: z.array(ManifestObject),
};

export const RawManifest = z.object({
  kind: z.literal('raw'),
  schema: z.literal('raw_events'),
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  ...common,
  ...RawFigures.shape,
});
export type RawManifest = z.infer<typeof RawManifest>;

export const AggregateFigures = z.object({
  rows: z.number().int().nonnegative(),
  min_bucket: z.string().nullable(),
  max_bucket: z.string().nullable(),
  /** Per "event_type/metric" of the dimension total ('all'/'*'): buckets, Σcount, exact Σsum, min, max. */
  series: z.record(
    z.string(),
    z.object({
      buckets: z.number().int().nonnegative(),
      count: z.number().int().nonnegative(),
      sum: z.string(),
      min: z.number(),
      max: z.number(),
    }),
  ),
});
export type AggregateFigures = z.infer<typeof AggregateFigures>;

export const AggregateManifest = z.object({
  kind: z.literal('aggregate'),
  schema: z.literal('aggregate_state'),
  level: z.enum(['hour', 'day', 'week', 'month']),
  month: z.string().regex(/^\d{4}-\d{2}$/),
  time_zone: z.string(),
  ...common,
  ...AggregateFigures.shape,
});
export type AggregateManifest = z.infer<typeof AggregateManifest>;

/** Reports past retention: their rows and delivery records, kept when the objects and rows go. */
export const ReportsManifest = z.object({
  kind: z.literal('reports'),
  schema: z.literal('reports'),
  month: z.string().regex(/^\d{4}-\d{2}$/),
  ...common,
  rows: z.number().int().nonnegative(),
  reports: z.array(z.record(z.string(), z.unknown())),
  deliveries: z.array(z.record(z.string(), z.unknown())),
});
export type ReportsManifest = z.infer<typeof ReportsManifest>;

export const Manifest = z.discriminatedUnion('kind', [RawManifest, AggregateManifest, ReportsManifest]);
export type Manifest = z.infer<typeof Manifest>;

/** The manifest's figures of a raw day. */
export function rawFigures(stats: RawStats): z.infer<typeof RawFigures> {
  return {
    rows: stats.rows,
    min_timestamp: stats.minTs === null ? null : isoMicros(stats.minTs),
    max_timestamp: stats.maxTs === null ? null : isoMicros(stats.maxTs),
    event_types: Object.fromEntries(
      Object.entries(stats.types).map(([name, t]) => [
        name,
        {
          rows: t.rows,
          metrics: Object.fromEntries(
            Object.entries(t.metrics).map(([m, f]) => [
              m,
              { count: f.count, sum: f.sum, abs_sum: f.absSum, min: f.min, max: f.max },
            ]),
          ),
        },
      ]),
    ),
  };
}

/** RawStats from a raw manifest's figures. */
export function rawStatsOf(manifest: RawManifest): RawStats {
  return {
    rows: manifest.rows,
    minTs: manifest.min_timestamp === null ? null : microsOfIso(manifest.min_timestamp),
    maxTs: manifest.max_timestamp === null ? null : microsOfIso(manifest.max_timestamp),
    types: Object.fromEntries(
      Object.entries(manifest.event_types).map(([name, t]) => [
        name,
        {
          rows: t.rows,
          metrics: Object.fromEntries(
            Object.entries(t.metrics).map(([m, f]) => [
              m,
              { count: f.count, sum: f.sum, absSum: f.abs_sum, min: f.min, max: f.max },
            ]),
          ),
        },
      ]),
    ),
  };
}

/** The manifest as stored: pretty JSON, so a person can read it in the bucket. */
export function manifestBytes(manifest: Manifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
}

/** Parses a stored manifest; throws naming what is wrong. */
export function parseManifest(bytes: Uint8Array, key: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new Error(`${key} is not JSON`);
  }
  const parsed = Manifest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${key} is not a manifest: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? '?'}`,
    );
  }
  return parsed.data;
}
