// The retention-sweep routes in the OpenAPI document (shared/openapi): the bodies are the schemas the routes
// parse with (routes.ts); the answers are described here and held to SweepSummary, RetentionStatus and
// RestoreSummary by test/unit/openapi.test.ts.
import { z } from 'zod';
import { BAD_REQUEST, UNAUTHORIZED, type ApiOperation } from '../openapi/operation.ts';
import { CleanupBody, RestoreBody } from './routes.ts';

const instant = z.string().meta({ description: 'ISO-8601 instant in UTC' });
const day = z.string().meta({ description: 'a UTC day, YYYY-MM-DD' });
const errorOf = z.object({ code: z.string(), message: z.string() });
const LEVEL = z.enum(['hour', 'day', 'week', 'month']);

const UnitEntrySchema = z.object({
  kind: z.enum([
    'raw',
    'aggregate',
    'reports',
    'dead_letters',
    'runs',
    'dedup_keys',
    'request_keys',
    'kafka_claims',
  ]),
  unit: z.string().meta({
    description:
      "e.g. '2026-10-01' (raw), 'hour/2026-10' (aggregate), 'before 2026-09-01T00:00:00Z' (bookkeeping)",
  }),
  range: z.object({ from: instant.nullable(), to: instant }),
  rows: z.number(),
  bytes: z.number().nullable().meta({ description: 'bytes the unit takes in the database, where known' }),
  archiveBytes: z.number().optional().meta({ description: 'bytes written to the archive' }),
  action: z.enum(['archive', 'reverify', 'delete', 'keep']).meta({
    description:
      'archive: export, verify, then remove; reverify: a restored day checked against its archive, then removed; ' +
      'delete: removed without a copy (archival off, or bookkeeping rows); keep: past retention but kept (see reason)',
  }),
  outcome: z.enum(['planned', 'done', 'kept', 'failed', 'not_reached']),
  reason: z.string().optional(),
  error: errorOf.optional(),
  attempts: z.number().optional(),
  manifest: z.string().optional().meta({ description: 'the key of the unit’s manifest.json' }),
  archivedRows: z.number().optional().meta({
    description:
      'rows this run wrote to a verified archive; absent when nothing was written (reverify, delete)',
  }),
  durationMs: z.number().optional(),
});

export const SweepSummarySchema = z.object({
  status: z.enum(['planned', 'succeeded', 'partial', 'failed', 'already_running', 'timed_out']),
  dryRun: z.boolean(),
  runId: z.number().meta({ description: '0 for a dry run (not recorded in the runs ledger)' }),
  now: instant,
  cutoffs: z.record(z.string(), instant),
  archival: z.boolean(),
  location: z.string().meta({ description: 'where archives go: s3://bucket/prefix or a local folder' }),
  units: z.array(UnitEntrySchema),
  totals: z.object({
    archivedRows: z.number().meta({ description: 'rows written to verified archives by this run' }),
    reverifiedRows: z.number().meta({
      description:
        'rows of restored days removed again after their existing archive verified (not written anew)',
    }),
    removedRows: z.number(),
    droppedPartitions: z.number(),
    deletedRows: z.number(),
    failed: z.number(),
  }),
  durationMs: z.number(),
  error: errorOf.optional(),
});

const ArchivedRangeSchema = z.object({
  from: z.string(),
  to: z.string().meta({ description: 'last day or month included' }),
  units: z.number(),
  rows: z.number(),
  bytes: z.number(),
});

const StorageFigureSchema = z.object({
  bytes: z.number(),
  quota: z.number(),
  ratio: z.number().meta({ description: 'bytes / quota (data_retention_storage_usage)' }),
});

export const RetentionStatusSchema = z.object({
  policy: z.object({
    rawDays: z.number(),
    aggregateDays: z.record(LEVEL, z.number()),
    reportsDays: z.number(),
    deadLetterDays: z.number(),
    runsDays: z.number(),
    dedupKeysDays: z.number(),
    restoredKeepDays: z.number(),
    archival: z.boolean(),
  }),
  cutoffs: z.object({
    raw: instant,
    aggregate: z.record(z.string(), instant),
    reports: instant,
    deadLetters: instant,
    runs: instant,
    dedupKeys: instant,
  }),
  location: z.string(),
  lastSweep: z
    .object({
      runId: z.number(),
      status: z.string(),
      trigger: z.string(),
      startedAt: instant,
      finishedAt: instant.nullable(),
      error: errorOf.nullable(),
      details: z.record(z.string(), z.unknown()).meta({ description: 'the run’s totals once finished' }),
    })
    .nullable(),
  lastSuccess: instant.nullable(),
  nextSweep: instant,
  archived: z.object({
    raw: z.array(ArchivedRangeSchema),
    aggregate: z.record(z.string(), z.array(ArchivedRangeSchema)),
    reports: z.array(ArchivedRangeSchema),
  }),
  restored: z.array(
    z.object({
      day: z.string(),
      rows: z.number().nullable(),
      restoredAt: instant.nullable(),
      keepUntil: instant.nullable(),
    }),
  ),
  failed: z.array(
    z.object({
      kind: z.string(),
      unit: z.string(),
      attempts: z.number(),
      errorCode: z.string().nullable(),
      error: z.string().nullable(),
      at: instant,
    }),
  ),
  pending: z.array(
    z.object({ kind: z.string(), unit: z.string(), status: z.string(), attempts: z.number() }),
  ),
  storage: z.object({
    database: StorageFigureSchema,
    archive: StorageFigureSchema.extend({
      byPrefix: z
        .record(z.string(), z.number())
        .meta({ description: 'bytes per key prefix (raw, aggregates, reports)' }),
    }),
  }),
});

export const RestoreSummarySchema = z.object({
  status: z.enum(['succeeded', 'partial', 'failed']),
  runId: z.number(),
  from: day,
  to: day,
  days: z.array(
    z.object({
      day,
      outcome: z.enum(['restored', 'live', 'failed']).meta({
        description: 'live: the day was not archived (its data is in the database); nothing to do',
      }),
      rows: z.number(),
      objects: z.number().optional(),
      keepUntil: instant.optional().meta({ description: 'the sweep keeps the restored day until then' }),
      hoursMarked: z.number().optional().meta({ description: 'hours marked for recomputation (recompute)' }),
      error: errorOf.optional(),
    }),
  ),
  rows: z.number(),
  durationMs: z.number(),
});

const SWEEP_FAILED = {
  description: 'some unit (partial) or the run failed, or it ran out of time; nothing unverified was removed',
  schema: SweepSummarySchema,
};
const SWEEP_RUNNING = {
  description:
    'another sweep holds the job: status already_running, error.code JOB_ALREADY_RUNNING; nothing was done',
  schema: SweepSummarySchema,
};

export const retentionOperations: ApiOperation[] = [
  {
    method: 'post',
    path: '/retention/cleanup',
    function: 'retention-sweep',
    served: 'api',
    operationId: 'retentionCleanup',
    summary: 'Archive, verify, then remove what is past retention — or, with dry_run, the plan',
    description:
      'One entry per unit (raw day, aggregate month, reports month, bookkeeping rows) with kind, range, rows, ' +
      'bytes, action and outcome. Raw days and aggregate months are written to Parquet, read back and compared ' +
      'before anything is removed. A dry run only reads, and needs no token; the sweep itself does.',
    tags: ['retention'],
    auth: true,
    body: { schema: CleanupBody, required: false, description: 'dry_run defaults to false' },
    responses: {
      200: { description: 'the plan (dry run) or the finished sweep', schema: SweepSummarySchema },
      400: BAD_REQUEST,
      401: UNAUTHORIZED,
      409: SWEEP_RUNNING,
      500: SWEEP_FAILED,
    },
    examples: [{ body: { dry_run: true } }, { body: { dry_run: 'yes' }, status: 400 }],
  },
  {
    method: 'get',
    path: '/retention/status',
    function: 'retention-sweep',
    served: 'api',
    operationId: 'retentionStatus',
    summary: 'Policy and cutoffs, the last and next sweep, archived ranges, restored days, storage usage',
    tags: ['retention'],
    responses: { 200: { description: 'the state of retention', schema: RetentionStatusSchema } },
  },
  {
    method: 'post',
    path: '/retention/restore',
    function: 'retention-sweep',
    served: 'api',
    operationId: 'retentionRestore',
    summary: 'Read archived raw days back into raw_events, checked against their manifests',
    description:
      'Each day is restored exactly once, in one transaction; `recompute` marks its hours for aggregation, a day already live too. ' +
      'Restored days are kept from the sweep for BATCH_PROCESSING_RESTORED_KEEP_DAYS days.',
    tags: ['retention'],
    auth: true,
    body: { schema: RestoreBody, required: true, description: '`to` defaults to `from`; both days included' },
    responses: {
      200: { description: 'every day restored (or live already)', schema: RestoreSummarySchema },
      207: {
        description: 'some days restored, others failed (see days[].error)',
        schema: RestoreSummarySchema,
      },
      400: BAD_REQUEST,
      401: UNAUTHORIZED,
      404: {
        description: 'no day asked for has an archive (days[].error ARCHIVE_MISSING)',
        schema: RestoreSummarySchema,
      },
      500: { description: 'no day could be restored (see days[].error)', schema: RestoreSummarySchema },
    },
    examples: [
      { body: { from: '2026-10-03', to: '2026-10-01' }, status: 400 },
      { body: { from: 'yesterday' }, status: 400 },
    ],
  },
  {
    method: 'post',
    path: '/',
    function: 'retention-sweep',
    served: 'gateway',
    operationId: 'retentionTick',
    summary: 'The scheduled sweep (the cron-connector’s tick): no body, no parameters',
    tags: ['retention'],
    responses: {
      200: { description: 'the finished sweep', schema: SweepSummarySchema },
      409: SWEEP_RUNNING,
      500: SWEEP_FAILED,
    },
  },
];
