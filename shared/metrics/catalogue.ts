// The one catalogue of hxp-batch's Prometheus metrics: name, type, HELP, labels and buckets, and where the
// samples come from. Registries are built from these entries (define.ts), docs/metrics.md is generated from
// them, and the dashboard and alert-rule tests check their queries against them. The original service's
// names are kept exactly; ours start with hxp_. Labels are bounded sets (a level, a reason code, an HTTP
// status, a partition) — never an event id, a run id or a path with an id in it.
//
// Sources:
//   run      — a job's process records it after each run; pushed to the Pushgateway (grouping key job =
//              the function's name, instance) or, under the local runtime, collected from the process.
//              These carry no `job` label of their own: the grouping key (or the runtime) adds it.
//   function — the template server records every invocation of its handler; collected like `run`.
//   ingest   — both ingest paths (push and Kafka pull) in whichever function runs them; collected like `run`.
//   state    — computed from the database (and Kafka's watermarks) by the status function's /metrics on each
//              scrape, so every replica answers the same and nothing is lost when a job process goes away.
//   runtime  — the local runtime's own registry (gateway, supervisor, cron, Kafka bridge).

export type MetricType = 'counter' | 'gauge' | 'histogram';
export type MetricSource = 'run' | 'function' | 'ingest' | 'state' | 'runtime';

export interface MetricDefinition {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly buckets?: readonly number[];
  readonly source: MetricSource;
  /** Which issue's module fills it, when not this one (the definition still lives here). */
  readonly filledBy?: string;
}

function metric<L extends string>(
  type: MetricType,
  source: MetricSource,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
  extra: { buckets?: readonly number[]; filledBy?: string } = {},
): MetricDefinition & { readonly labelNames: readonly L[] } {
  return { name, type, help, labelNames, source, ...extra };
}

/** Run durations: a second to the job timeout's 1 h and beyond. */
const RUN_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 2700, 3600, 7200];
/** Function invocations: a health probe to a long job. */
const INVOCATION_BUCKETS = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 10, 60, 300, 1800, 3600];

export const AGGREGATION_PERIODS = ['hourly', 'daily', 'weekly', 'monthly'] as const;

export const METRICS = {
  // ---- the original service's names -----------------------------------------------------------------
  successRate: metric(
    'gauge',
    'run',
    'batch_processing_success_rate',
    "Share (0-1) of the last run's work units (aggregation windows, reports, archive units) that succeeded; 1 when nothing was due",
  ),
  completionRate: metric(
    'gauge',
    'run',
    'batch_processing_completion_rate',
    'Share (0-1) of the work due at the start of the last run that the run got through (below 1 when it ran out of time or lost its lock)',
  ),
  duration: metric(
    'histogram',
    'run',
    'batch_processing_duration_seconds',
    'How long runs of the batch jobs took, from taking the job lock to writing the ledger entry',
    [],
    { buckets: RUN_BUCKETS },
  ),
  hourlyStatus: metric(
    'gauge',
    'state',
    'data_aggregation_hourly_status',
    'Hourly aggregation: 1 = the last run succeeded or is running and no window is failing, 0 = a run or a window failed, -1 = never run',
  ),
  dailyStatus: metric(
    'gauge',
    'state',
    'data_aggregation_daily_status',
    'Daily aggregation: 1 = the last run succeeded or is running and no window is failing, 0 = a run or a window failed, -1 = never run',
  ),
  weeklyStatus: metric(
    'gauge',
    'state',
    'data_aggregation_weekly_status',
    'Weekly aggregation: 1 = the last run succeeded or is running and no window is failing, 0 = a run or a window failed, -1 = never run',
  ),
  monthlyStatus: metric(
    'gauge',
    'state',
    'data_aggregation_monthly_status',
    'Monthly aggregation: 1 = the last run succeeded or is running and no window is failing, 0 = a run or a window failed, -1 = never run',
  ),
  reportGenerationStatus: metric(
    'gauge',
    'state',
    'report_generation_status',
    'Per report type and format: 1 = its newest report was stored, 0 = its newest attempt failed',
    ['report_type', 'format'],
  ),
  // The reports issue names these three exactly (beside the original's report_generation_status).
  reportGenerationDuration: metric(
    'histogram',
    'run',
    'report_generation_duration_seconds',
    'Time to render and store one report format, plus its share of the document build its formats have in common',
    ['report_type', 'format'],
    { buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300], filledBy: 'issue 10 (shared/reports)' },
  ),
  reportGenerationTotal: metric(
    'counter',
    'run',
    'report_generation_total',
    'Report formats generated, by type, format and result (success, failure)',
    ['report_type', 'format', 'result'],
    { filledBy: 'issue 10 (shared/reports)' },
  ),
  reportDistributionTotal: metric(
    'counter',
    'run',
    'report_distribution_total',
    'Report distributions by channel (s3 = one stored object, email = one recipient) and result (success, failure)',
    ['channel', 'result'],
    { filledBy: 'issue 10 (shared/reports)' },
  ),
  storageUsage: metric(
    'gauge',
    'state',
    'data_retention_storage_usage',
    "Used share (0-1) of the storage quota, per store (database: its size over retention.quota.databaseBytes; archive: the object store's archives and reports over retention.quota.archiveBytes)",
    ['store'],
    { filledBy: 'issue 12 (shared/retention)' },
  ),
  // The retention issue names these four exactly.
  retentionArchivedRows: metric(
    'counter',
    'run',
    'retention_archived_rows_total',
    'Rows the retention sweep wrote to verified archives before removing them, by kind (raw, aggregate, reports)',
    ['kind'],
    { filledBy: 'issue 12 (shared/retention)' },
  ),
  // Apart from the archived rows: a restored day dropped again was not written, and counting it there made a
  // day archived, restored and dropped again count twice.
  retentionReverifiedRows: metric(
    'counter',
    'run',
    'hxp_retention_reverified_rows_total',
    'Rows of restored raw days the retention sweep removed again after checking them against their existing archive, without writing it anew, by kind (raw)',
    ['kind'],
    { filledBy: 'shared/retention' },
  ),
  retentionDroppedPartitions: metric(
    'counter',
    'run',
    'retention_dropped_partitions_total',
    'Daily raw_events partitions the retention sweep dropped (after their archive verified, or without one when archival is off)',
    [],
    { filledBy: 'issue 12 (shared/retention)' },
  ),
  retentionSweepDuration: metric(
    'histogram',
    'run',
    'retention_sweep_duration_seconds',
    'Duration of retention sweeps (dry runs excluded), from taking the job lock to the ledger entry',
    [],
    { buckets: RUN_BUCKETS, filledBy: 'issue 12 (shared/retention)' },
  ),
  retentionLastSuccess: metric(
    'gauge',
    'state',
    'retention_last_success_timestamp_seconds',
    'When the last retention sweep that succeeded finished (Unix seconds), from the runs ledger',
    [],
    { filledBy: 'issue 12 (shared/retention)' },
  ),
  retentionDeletedRows: metric(
    'counter',
    'run',
    'hxp_retention_deleted_rows_total',
    'Rows retention removed, by kind (raw, aggregate, reports, dead_letters, runs, dedup_keys, request_keys, kafka_claims)',
    ['kind'],
    { filledBy: 'issue 12 (shared/retention)' },
  ),
  retentionVerificationFailures: metric(
    'counter',
    'run',
    'hxp_retention_verification_failures_total',
    'Archives whose read-back differed from their manifest or from the live data (nothing was removed), by kind',
    ['kind'],
    { filledBy: 'issue 12 (shared/retention)' },
  ),
  retentionStorageBytes: metric(
    'gauge',
    'state',
    'hxp_retention_storage_bytes',
    'Bytes used: the database (prefix ""), and the object store per key prefix (raw, aggregates, reports)',
    ['store', 'prefix'],
    { filledBy: 'issue 12 (shared/retention)' },
  ),
  retentionFailedUnits: metric(
    'gauge',
    'state',
    'hxp_retention_failed_units_count',
    'Units whose last archive attempt failed and whose data is still in the database, by kind (raw, aggregate, reports)',
    ['kind'],
    { filledBy: 'issue 12 (shared/retention)' },
  ),

  // ---- capacity (the names; shared/capacity fills them from its newest stored analysis) ----
  capacityDaysToThreshold: metric(
    'gauge',
    'state',
    'capacity_forecast_days_to_threshold',
    'Days until the point forecast of a resource series crosses its threshold, from the newest capacity analysis; +Inf when it does not within the forecast horizon; absent without a limit or a forecast',
    ['resource', 'series'],
  ),
  capacityUtilization: metric(
    'gauge',
    'state',
    'capacity_utilization_ratio',
    'p95 of the hourly utilisation over the analysed history divided by the limit, per resource and series (newest capacity analysis)',
    ['resource', 'series'],
  ),

  // ---- runs (ours) ----------------------------------------------------------------------------------
  lastRunDuration: metric(
    'gauge',
    'run',
    'batch_processing_last_run_duration_seconds',
    'How long the last run took, whatever its result (a run that did nothing because the job was locked is not one)',
  ),
  runs: metric(
    'counter',
    'run',
    'batch_processing_runs_total',
    'Runs finished, by result (succeeded, partial, failed, timed_out, already_running, disabled)',
    ['result'],
  ),
  lastRun: metric(
    'gauge',
    'run',
    'batch_processing_last_run_timestamp_seconds',
    'When the last run finished, whatever its result (Unix seconds)',
  ),
  lastSuccess: metric(
    'gauge',
    'run',
    'batch_processing_last_success_timestamp_seconds',
    'When the last run that succeeded finished (Unix seconds)',
  ),

  // ---- function processes (ours) --------------------------------------------------------------------
  invocations: metric(
    'counter',
    'function',
    'hxp_function_invocations_total',
    'Handler invocations of the function process, by HTTP status',
    ['code'],
  ),
  invocationDuration: metric(
    'histogram',
    'function',
    'hxp_function_duration_seconds',
    'Handler invocation duration of the function process, from request to response',
    [],
    { buckets: INVOCATION_BUCKETS },
  ),
  functionStart: metric(
    'gauge',
    'function',
    'hxp_function_start_time_seconds',
    'When the function process started (Unix seconds); a new value is a restart',
  ),

  // ---- ingestion (ours) -----------------------------------------------------------------------------
  ingestEvents: metric(
    'counter',
    'ingest',
    'hxp_ingest_events_total',
    'Events received, by way in (http, connector, pull, replay of dead letters) and outcome: stored, duplicate (stored before by any way: same id, record or content), conflicting_duplicate (its id stored before with other content; the first is kept), rejected',
    ['via', 'outcome'],
  ),
  ingestRejected: metric(
    'counter',
    'ingest',
    'hxp_ingest_rejected_total',
    'Events rejected, by way in (http, connector, pull, replay) and reason code (EVENT_*, INGEST_*); a rejected replay leaves its dead letter in place',
    ['via', 'reason'],
  ),
  deadLetters: metric(
    'gauge',
    'state',
    'hxp_dead_letters',
    'Dead letters in the database not replayed yet, by reason code; every reason a dead letter can have is exported, 0 when it has none',
    ['reason'],
  ),
  kafkaLag: metric(
    'gauge',
    'state',
    'hxp_kafka_consumer_lag_messages',
    "Records on a raw topic's partition not yet stored: high watermark minus the next offset of the path that stores them (kafka.consumption): with pull, the offset stored in PostgreSQL with the rows (kafka.consumerGroup); with push, the offset the connector's group (kafka.connectorGroup) committed in Kafka. The low watermark where the group has none",
    ['topic', 'partition'],
  ),
  kafkaLagUp: metric(
    'gauge',
    'state',
    'hxp_kafka_lag_scrape_success',
    "1 when the last scrape read Kafka's watermarks, 0 when Kafka did not answer (the lag series are then missing)",
  ),

  // ---- aggregation state (ours) ---------------------------------------------------------------------
  aggregationState: metric(
    'gauge',
    'state',
    'hxp_aggregation_state',
    'One-hot state of each period: completed, running, failed, scheduled (never run)',
    ['period', 'state'],
  ),
  freshness: metric(
    'gauge',
    'state',
    'hxp_aggregation_freshness_seconds',
    'Seconds since the end of the newest completely aggregated bucket, per period',
    ['period'],
  ),
  aggregationLag: metric(
    'gauge',
    'state',
    'hxp_aggregation_lag_seconds',
    'Seconds since the end of the oldest closed window whose data is not aggregated yet (never done, changed by late events since, or failed), per period; 0 when none waits (lagSeconds of GET /aggregation/status). Exported whether or not a bucket was ever completed: AggregationStale reads it where the period has no freshness yet',
    ['period'],
  ),
  dirtyWindows: metric(
    'gauge',
    'state',
    'hxp_aggregation_dirty_windows',
    'Closed windows with data not aggregated yet (new or late events), per period',
    ['period'],
  ),
  failingWindows: metric(
    'gauge',
    'state',
    'hxp_aggregation_failing_windows',
    'Windows whose last attempt failed and that are not redone yet, per period',
    ['period'],
  ),
  nextRun: metric(
    'gauge',
    'state',
    'hxp_aggregation_next_run_timestamp_seconds',
    "When the period's job is scheduled to fire next (Unix seconds)",
    ['period'],
  ),

  // ---- the local runtime (ours; names of the OpenFaaS gateway's own metrics where it has them) -------
  gatewayInvocations: metric(
    'counter',
    'runtime',
    'gateway_function_invocation_total',
    'Function invocations through the local gateway, by function and HTTP status',
    ['function_name', 'code'],
  ),
  gatewayDuration: metric(
    'histogram',
    'runtime',
    'gateway_functions_seconds',
    'Function call duration through the local gateway',
    ['function_name'],
    { buckets: [0.005, 0.025, 0.1, 0.5, 1, 2.5, 10, 60, 300] },
  ),
  gatewayReplicas: metric(
    'gauge',
    'runtime',
    'gateway_service_count',
    'Ready replicas per function (0 or 1 locally)',
    ['function_name'],
  ),
  runtimeRestarts: metric(
    'counter',
    'runtime',
    'hxp_runtime_function_restarts_total',
    'Function processes restarted after they exited on their own',
    ['function_name'],
  ),
  runtimeAsyncQueue: metric(
    'gauge',
    'runtime',
    'hxp_runtime_async_queue_depth',
    'Async invocations accepted and not yet finished',
  ),
  runtimeCronFired: metric(
    'counter',
    'runtime',
    'hxp_runtime_cron_fired_total',
    'Cron-connector invocations fired',
    ['function_name'],
  ),
  bridgeMessages: metric(
    'counter',
    'runtime',
    'hxp_kafka_bridge_messages_total',
    'Kafka messages the bridge delivered, by outcome (delivered, dead_lettered)',
    ['topic', 'function_name', 'outcome'],
  ),
} as const;

export type MetricId = keyof typeof METRICS;

/** Every definition, in catalogue order. */
export const metricDefinitions: readonly MetricDefinition[] = Object.values(METRICS);

/** Label names no metric may carry: unbounded values, or the target labels Prometheus and the Pushgateway set. */
export const FORBIDDEN_LABELS = ['job', 'instance', 'id', 'event_id', 'run_id', 'request_id', 'key', 'path'];
