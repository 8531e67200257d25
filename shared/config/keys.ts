// The one table of configuration keys: for each key of the schema (schema.ts), where its value may come
// from and what it means. Env parsing (sources.ts), error lines (errors.ts) and docs/configuration.md all
// read this table. TypeScript checks that it names every leaf of the schema, and only those.
import type { SettingKey } from './schema.ts';

export interface SettingSource {
  /** Environment variable (the original service's name where it had one). */
  env: string;
  /** Dotted snake_case path in the YAML file. */
  yaml: string;
  /** File name under the secrets folder (/var/openfaas/secrets), highest precedence. */
  secretFile?: string;
  /** Never printed: non-enumerable in the loaded config, redacted in errors and docs. */
  secret?: boolean;
  /** Example shown in errors when there is no default. */
  example?: string;
  description: string;
}

const BP = 'batch_processing';

// A setting named as ${VAR} in stack.yml (schedules, topics, the job timeout, the gateway, and the services:
// Kafka brokers and consumption path, S3, the archive folder, the Pushgateway) also decides what is deployed: faas-cli expands it from the environment it runs in, the local runtime from the
// loaded configuration (environment, YAML file, defaults), and the functions get the expanded value.
// prettier-ignore
export const settings: Record<SettingKey, SettingSource> = {
  'api.port': { env: 'BATCH_PROCESSING_API_PORT', yaml: `${BP}.api.port`, description: 'Port of the batch-processing HTTP API.' },
  'api.token': {
    env: 'BATCH_PROCESSING_API_TOKEN', yaml: `${BP}.api.token`, secretFile: 'api-token', secret: true,
    description: 'Bearer token the API requires; unset = no authentication (loopback use only).',
  },
  'api.ingestOpen': {
    env: 'BATCH_PROCESSING_INGEST_OPEN', yaml: `${BP}.api.ingest_open`,
    description: 'true = ingest takes events without the API token even when one is set (producers or a Kafka connector that cannot send the header); every other mutating call still needs it.',
  },
  'jobs.timeoutSeconds': { env: 'BATCH_PROCESSING_TIMEOUT', yaml: `${BP}.jobs.timeout`, description: 'Time limit of one job run: past it a run starts no further window and leaves the rest to the next run. At most 3600 s, the watchdog\'s exec_timeout of the long jobs in stack.yml, which ends an invocation whatever the job does.' },
  'jobs.retries': { env: 'BATCH_PROCESSING_RETRIES', yaml: `${BP}.jobs.retries`, description: 'Retries of a failed window before it is marked failed.' },
  'jobs.retryDelaySeconds': { env: 'BATCH_PROCESSING_RETRY_DELAY', yaml: `${BP}.jobs.retry_delay`, description: 'Delay before a failed window is retried.' },
  'aggregation.enabled': { env: 'BATCH_PROCESSING_AGGREGATION_ENABLED', yaml: `${BP}.aggregation.enabled`, description: 'Master switch of all aggregation jobs.' },
  'aggregation.intervals.hourly': { env: 'BATCH_PROCESSING_HOURLY_ENABLED', yaml: `${BP}.aggregation.intervals.hourly`, description: 'Hourly aggregation on/off.' },
  'aggregation.intervals.daily': { env: 'BATCH_PROCESSING_DAILY_ENABLED', yaml: `${BP}.aggregation.intervals.daily`, description: 'Daily rollup on/off.' },
  'aggregation.intervals.weekly': { env: 'BATCH_PROCESSING_WEEKLY_ENABLED', yaml: `${BP}.aggregation.intervals.weekly`, description: 'Weekly rollup on/off.' },
  'aggregation.intervals.monthly': { env: 'BATCH_PROCESSING_MONTHLY_ENABLED', yaml: `${BP}.aggregation.intervals.monthly`, description: 'Monthly rollup on/off.' },
  'aggregation.cron.hourly': { env: 'BATCH_PROCESSING_HOURLY_CRON', yaml: `${BP}.aggregation.schedules.hourly`, description: 'Schedule of the hourly aggregation. In UTC, the zone the cron-connector fires in. Named in stack.yml (docs/configuration.md: settings stack.yml names).' },
  'aggregation.cron.daily': { env: 'BATCH_PROCESSING_DAILY_CRON', yaml: `${BP}.aggregation.schedules.daily`, description: 'Schedule of the daily rollup. In UTC, the zone the cron-connector fires in. Named in stack.yml (docs/configuration.md: settings stack.yml names).' },
  'aggregation.cron.weekly': { env: 'BATCH_PROCESSING_WEEKLY_CRON', yaml: `${BP}.aggregation.schedules.weekly`, description: 'Schedule of the weekly rollup. It takes only weeks that have ended and whose days are done, so it fires every day, 00:10 by default, after the daily rollup (00:05): on the day after a week ends it rolls that week up, on other days it rolls up a week that a late event re-opened (or that a missed fire left) and otherwise records a run that found nothing to do. Firing only on the day after the week (10 0 * * 1 for ISO weeks) leaves a re-opened week stale until the next one. In UTC, the zone the cron-connector fires in. Named in stack.yml (docs/configuration.md: settings stack.yml names).' },
  'aggregation.cron.monthly': { env: 'BATCH_PROCESSING_MONTHLY_CRON', yaml: `${BP}.aggregation.schedules.monthly`, description: 'Schedule of the monthly rollup. It takes only months that have ended and whose days are done, so it fires every day, 00:15 by default (after the weekly rollup): on the 1st it rolls up the month just ended, on other days a month that a late event re-opened (or that a missed fire left). Firing on the 1st only (15 0 1 * *) leaves a re-opened month stale until the next 1st. In UTC, the zone the cron-connector fires in. Named in stack.yml (docs/configuration.md: settings stack.yml names).' },
  'time.zone': { env: 'BATCH_PROCESSING_TIMEZONE', yaml: `${BP}.timezone`, description: 'Zone of day, week and month buckets and of report dates: any IANA zone, half- and quarter-hour offsets and DST included (Asia/Kolkata, Asia/Kathmandu, Australia/Adelaide). Hours are UTC hours; where a local day starts inside one (e.g. 18:30 UTC in Kolkata), that hour also keeps the state of its quarter hours, so days, weeks and months stay exact. Schedules are not in this zone: they fire in UTC, the cron-connector\'s zone.' },
  'time.weekStart': { env: 'BATCH_PROCESSING_WEEK_START', yaml: `${BP}.week_start`, description: 'First day of a week bucket (monday = ISO).' },
  'retention.rawDays': { env: 'BATCH_PROCESSING_RAW_DATA_RETENTION_DAYS', yaml: `${BP}.retention.raw_data_days`, description: 'Days raw events are kept (older events are rejected at ingest).' },
  'retention.aggregatedDays': { env: 'BATCH_PROCESSING_AGGREGATED_DATA_RETENTION_DAYS', yaml: `${BP}.retention.aggregated_data_days`, description: 'Days aggregates are kept.' },
  'retention.aggregatedLevelDays.day': { env: 'BATCH_PROCESSING_DAILY_AGGREGATES_RETENTION_DAYS', yaml: `${BP}.retention.aggregated_level_days.day`, description: 'Days daily aggregates are kept; unset = the aggregated retention.' },
  'retention.aggregatedLevelDays.week': { env: 'BATCH_PROCESSING_WEEKLY_AGGREGATES_RETENTION_DAYS', yaml: `${BP}.retention.aggregated_level_days.week`, description: 'Days weekly aggregates are kept; unset = the aggregated retention.' },
  'retention.aggregatedLevelDays.month': { env: 'BATCH_PROCESSING_MONTHLY_AGGREGATES_RETENTION_DAYS', yaml: `${BP}.retention.aggregated_level_days.month`, description: 'Days monthly aggregates are kept; unset = the aggregated retention.' },
  'retention.reportsDays': { env: 'BATCH_PROCESSING_REPORTS_RETENTION_DAYS', yaml: `${BP}.retention.reports_days`, description: 'Days generated reports are kept.' },
  'retention.deadLetterDays': { env: 'BATCH_PROCESSING_DEAD_LETTER_RETENTION_DAYS', yaml: `${BP}.retention.dead_letter_days`, description: 'Days dead letters are kept.' },
  'retention.runsDays': { env: 'BATCH_PROCESSING_RUNS_RETENTION_DAYS', yaml: `${BP}.retention.runs_days`, description: 'Days finished runs stay in the runs ledger.' },
  'retention.dedupKeysDays': { env: 'BATCH_PROCESSING_DEDUP_KEYS_RETENTION_DAYS', yaml: `${BP}.retention.dedup_keys_days`, description: 'Days idempotency keys (of events, and of push and /reports requests with their answers) and Kafka record claims are kept; unset = raw retention + future skew + 1 day.' },
  'retention.restoredKeepDays': { env: 'BATCH_PROCESSING_RESTORED_KEEP_DAYS', yaml: `${BP}.retention.restored_keep_days`, description: 'Days a restored raw day is kept before the sweep drops it again.' },
  'retention.cron': { env: 'BATCH_PROCESSING_RETENTION_CRON', yaml: `${BP}.retention.schedule`, description: 'Schedule of the retention sweep (after the daily aggregation), in UTC like every schedule. Named in stack.yml (docs/configuration.md: settings stack.yml names).' },
  'retention.quota.databaseBytes': { env: 'BATCH_PROCESSING_DATABASE_QUOTA', yaml: `${BP}.retention.quota.database`, description: 'Database size data_retention_storage_usage compares against.' },
  'retention.quota.archiveBytes': { env: 'BATCH_PROCESSING_ARCHIVE_QUOTA', yaml: `${BP}.retention.quota.archive`, description: 'Archive size (raw, aggregates and reports together) data_retention_storage_usage compares against.' },
  'retention.archival.enabled': { env: 'BATCH_PROCESSING_ARCHIVAL_ENABLED', yaml: `${BP}.retention.archival.enabled`, description: 'Archive data before retention deletes it (off: past-retention data is deleted without a copy).' },
  'retention.archival.path': { env: 'BATCH_PROCESSING_ARCHIVAL_PATH', yaml: `${BP}.retention.archival.path`, description: 'Archive folder when S3 is not configured; with S3 the same keys sit under S3_PREFIX in the bucket. A deployed function\'s root file system is read-only: without S3 this must be a writable volume, which every function reading the archive shares (generate-report and retention-sweep refuse to start otherwise, ARCHIVE_NOT_WRITABLE). Named in stack.yml (docs/configuration.md: settings stack.yml names).' },
  'reports.enabled': { env: 'BATCH_PROCESSING_REPORTS_ENABLED', yaml: `${BP}.reports.enabled`, description: 'Report generation on/off.' },
  'reports.formats': { env: 'BATCH_PROCESSING_REPORT_FORMATS', yaml: `${BP}.reports.formats`, description: 'Formats written for each report.' },
  'reports.templatesDir': { env: 'BATCH_PROCESSING_REPORT_TEMPLATES_DIR', yaml: `${BP}.reports.templates`, description: 'Folder of custom report templates; unset = built-in templates.' },
  'reports.distribution': { env: 'BATCH_PROCESSING_REPORT_DISTRIBUTION', yaml: `${BP}.reports.distribution`, description: 'Channels of finished reports: email sends them to their recipients. Every report is stored (S3, or the local archive folder without S3) whether or not s3 is listed; the value is accepted as the original configuration files have it.' },
  'reports.scheduled': { env: 'BATCH_PROCESSING_REPORT_SCHEDULED_TYPES', yaml: `${BP}.reports.scheduled`, description: 'Report types made by themselves once their period is aggregated (aggregation.completed, then the cron fallback); others only on request.' },
  'reports.catchUpDays': { env: 'BATCH_PROCESSING_REPORT_CATCH_UP_DAYS', yaml: `${BP}.reports.catch_up_days`, description: 'Scheduled reports of periods that ended up to this many days ago are made when missing (catch-up after downtime).' },
  'reports.cron': { env: 'BATCH_PROCESSING_REPORTS_CRON', yaml: `${BP}.reports.schedule`, description: 'Schedule of generate-report-cron, the fallback that makes due reports and retries failed ones and e-mails; in UTC like every schedule. Named in stack.yml (docs/configuration.md: settings stack.yml names).' },
  'reports.email.host': { env: 'SMTP_HOST', yaml: `${BP}.reports.email.smtp_host`, description: 'SMTP server for e-mailed reports; unset = no e-mail.' },
  'reports.email.port': { env: 'SMTP_PORT', yaml: `${BP}.reports.email.smtp_port`, description: 'SMTP port.' },
  'reports.email.user': { env: 'SMTP_USER', yaml: `${BP}.reports.email.smtp_user`, description: 'SMTP user; unset = no authentication.' },
  'reports.email.password': {
    env: 'SMTP_PASSWORD', yaml: `${BP}.reports.email.smtp_password`, secretFile: 'smtp-password', secret: true,
    description: 'SMTP password.',
  },
  'reports.email.from': { env: 'SMTP_FROM', yaml: `${BP}.reports.email.from`, description: 'Sender of report e-mails.' },
  'reports.email.recipients': {
    env: 'BATCH_PROCESSING_REPORT_RECIPIENTS', yaml: `${BP}.reports.email.recipients`, example: 'ops@example.com,finance@example.com',
    description: 'Recipients of report e-mails.',
  },
  'reports.email.attachLimitBytes': { env: 'BATCH_PROCESSING_REPORT_ATTACH_LIMIT', yaml: `${BP}.reports.email.attach_limit`, description: 'Largest total size of report files attached to an e-mail; above it the e-mail carries links instead.' },
  'reports.email.linkTtlSeconds': { env: 'BATCH_PROCESSING_REPORT_LINK_TTL', yaml: `${BP}.reports.email.link_ttl`, description: 'How long a presigned S3 link in a report e-mail stays valid (at most 7 days).' },
  'businessIntelligence.enabled': { env: 'BATCH_PROCESSING_BUSINESS_INTELLIGENCE_ENABLED', yaml: `${BP}.business_intelligence.enabled`, description: 'Business-intelligence reports on/off.' },
  'businessIntelligence.metrics': { env: 'BATCH_PROCESSING_BUSINESS_INTELLIGENCE_METRICS', yaml: `${BP}.business_intelligence.metrics`, description: 'Event metrics the business-intelligence report covers.' },
  'businessIntelligence.lookbackDays': { env: 'BATCH_PROCESSING_BUSINESS_INTELLIGENCE_LOOKBACK_DAYS', yaml: `${BP}.business_intelligence.lookback_days`, description: 'Days of history for trends, the anomaly baseline and the load heatmap.' },
  'businessIntelligence.anomalyThreshold': { env: 'BATCH_PROCESSING_BUSINESS_INTELLIGENCE_ANOMALY_THRESHOLD', yaml: `${BP}.business_intelligence.anomaly_threshold`, description: 'An hour is an anomaly when it lies more than this many scaled MADs from the median of the same hour of the week.' },
  'capacityAnalysis.enabled': { env: 'BATCH_PROCESSING_CAPACITY_ANALYSIS_ENABLED', yaml: `${BP}.capacity_analysis.enabled`, description: 'Capacity analysis on/off (off: the analyze-capacity function answers 409 CAPACITY_ANALYSIS_DISABLED).' },
  'capacityAnalysis.analyses': { env: 'BATCH_PROCESSING_CAPACITY_ANALYSES', yaml: `${BP}.capacity_analysis.analyses`, description: 'Resources the capacity analysis covers.' },
  'capacityAnalysis.sources': { env: 'BATCH_PROCESSING_CAPACITY_SOURCES', yaml: `${BP}.capacity_analysis.sources`, description: 'Which hourly aggregate each resource reads, per host/source and for the fleet (event_type.metric:statistic; + adds metrics, * counts events).' },
  'capacityAnalysis.limits': { env: 'BATCH_PROCESSING_CAPACITY_LIMITS', yaml: `${BP}.capacity_analysis.limits`, description: 'Capacity of one host or replica per resource (percent resources: 100; requests and tokens: per hour per replica; cost: USD per hour; latency: p95 ms objective). A resource without a limit is analysed and forecast without a threshold.' },
  'capacityAnalysis.thresholds': { env: 'BATCH_PROCESSING_CAPACITY_THRESHOLDS', yaml: `${BP}.capacity_analysis.thresholds`, description: 'Threshold per resource, in percent of its limit: the line a forecast is checked against.' },
  'capacityAnalysis.historyDays': { env: 'BATCH_PROCESSING_CAPACITY_HISTORY_DAYS', yaml: `${BP}.capacity_analysis.history_days`, description: 'Days of hourly aggregates an analysis reads (statistics, backtest and forecast).' },
  'capacityAnalysis.alertHorizonDays': { env: 'BATCH_PROCESSING_CAPACITY_ALERT_HORIZON_DAYS', yaml: `${BP}.capacity_analysis.alert_horizon_days`, description: 'A forecast crossing its threshold within this many days raises a capacity.alert event.' },
  'capacityAnalysis.scaleDown.percent': { env: 'BATCH_PROCESSING_CAPACITY_SCALE_DOWN_PERCENT', yaml: `${BP}.capacity_analysis.scale_down.percent`, description: 'Scale-down is recommended when the weekly p95 stayed under this percent of the limit …' },
  'capacityAnalysis.scaleDown.weeks': { env: 'BATCH_PROCESSING_CAPACITY_SCALE_DOWN_WEEKS', yaml: `${BP}.capacity_analysis.scale_down.weeks`, description: '… for this many whole weeks in a row.' },
  'capacityAnalysis.forecasting.enabled': { env: 'BATCH_PROCESSING_FORECASTING_ENABLED', yaml: `${BP}.capacity_analysis.forecasting.enabled`, description: 'Capacity forecasts on/off (off: statistics and recommendations from history only).' },
  'capacityAnalysis.forecasting.horizonDays': { env: 'BATCH_PROCESSING_FORECAST_HORIZON_DAYS', yaml: `${BP}.capacity_analysis.forecasting.horizon_days`, description: 'How far forecasts look ahead.' },
  'pricing.models': {
    env: 'BATCH_PROCESSING_PRICING', yaml: `${BP}.pricing.models`,
    description: 'Model prices (USD per 1k input/output/cached tokens, valid_from) from which ingest infers cost_usd of an llm_request that reports none (docs/pricing.md); empty = no inference.',
  },
  'pricing.file': {
    env: 'BATCH_PROCESSING_PRICING_FILE', yaml: `${BP}.pricing.file`,
    description: 'A YAML or JSON file holding the price list instead of pricing.models (read when a function starts).',
  },
  'ingestion.maxEventBytes': { env: 'BATCH_PROCESSING_MAX_EVENT_BYTES', yaml: `${BP}.ingestion.max_event_bytes`, description: 'Largest accepted event (bigger ones go to dead letters).' },
  'ingestion.maxFields': { env: 'BATCH_PROCESSING_MAX_EVENT_FIELDS', yaml: `${BP}.ingestion.max_fields`, description: 'Most fields in an event\'s data.' },
  'ingestion.maxFutureSkewSeconds': { env: 'BATCH_PROCESSING_MAX_FUTURE_SKEW', yaml: `${BP}.ingestion.max_future_skew`, description: 'How far in the future an event timestamp may be.' },
  'ingestion.dimensionKeys': { env: 'BATCH_PROCESSING_DIMENSION_KEYS', yaml: `${BP}.ingestion.dimension_keys`, description: 'String fields of data aggregated as dimensions.' },
  'kafka.bootstrapServers': { env: 'KAFKA_BOOTSTRAP_SERVERS', yaml: 'kafka.bootstrap_servers', description: 'Kafka brokers; unset = no Kafka (ingestion by HTTP only). Named in stack.yml (docs/configuration.md: settings stack.yml names).' },
  'kafka.clientId': { env: 'KAFKA_CLIENT_ID', yaml: 'kafka.client_id', description: 'Kafka client id.' },
  'kafka.consumerGroup': { env: 'KAFKA_CONSUMER_GROUP', yaml: 'kafka.consumer_group', description: 'Consumer group of the pull consumer.' },
  'kafka.connectorGroup': { env: 'KAFKA_CONNECTOR_GROUP', yaml: 'kafka.connector_group', description: 'Consumer group of the Kafka connector that pushes records to functions: the local runtime\'s bridge consumes in it, and with kafka.consumption = push the status function measures the raw topics\' lag against the offsets it committed in Kafka. On OpenFaaS, set it to the group the kafka-connector is deployed with.' },
  'kafka.consumption': {
    env: 'KAFKA_CONSUMPTION', yaml: 'kafka.consumption',
    description: 'How raw events get from Kafka into PostgreSQL, one path per deployment: pull = aggregate-hourly drains the raw topics before each run (exactly once, batched, fastest; no connector needed); push = a Kafka connector posts each record to ingest as it arrives (seconds of latency; one HTTP call per record). The other path stays off. Named in stack.yml (ingest and aggregate-hourly, which must agree; docs/configuration.md: settings stack.yml names).',
  },
  'kafka.sessionTimeoutMs': { env: 'KAFKA_SESSION_TIMEOUT_MS', yaml: 'kafka.session_timeout_ms', description: 'Consumer session timeout.' },
  'kafka.topics.raw': { env: 'KAFKA_RAW_TOPICS', yaml: 'kafka.topics.raw', description: 'Topics of raw events. Named in stack.yml (docs/configuration.md: settings stack.yml names).' },
  'kafka.topics.events': { env: 'KAFKA_EVENTS_TOPIC', yaml: 'kafka.topics.events', description: 'Topic of the functions\' own events (aggregation.completed, …), which generate-report and analyze-capacity subscribe to. Named in stack.yml (docs/configuration.md: settings stack.yml names).' },
  'kafka.topics.dlq': { env: 'KAFKA_DLQ_TOPIC', yaml: 'kafka.topics.dlq', description: 'Dead-letter topic of rejected events.' },
  'kafka.topics.create': { env: 'KAFKA_TOPIC_CREATE', yaml: 'kafka.topics.create', description: 'Create the raw, events and DLQ topics with the admin API when the broker lacks them; false (or a broker that refuses) = warn naming the topic and wait for it.' },
  'kafka.topics.partitions': { env: 'KAFKA_TOPIC_PARTITIONS', yaml: 'kafka.topics.partitions', description: 'Partitions of a topic this project creates (pull ingestion stores up to three batches at once, each of another partition; one on the embedded PGlite).' },
  'kafka.topics.replicationFactor': { env: 'KAFKA_TOPIC_REPLICATION_FACTOR', yaml: 'kafka.topics.replication_factor', description: 'Replication factor of a topic this project creates; at most the number of brokers (1 suits a single broker).' },
  'database.url': {
    env: 'DATABASE_URL', yaml: 'database.url', secretFile: 'database-url', secret: true,
    description: 'PostgreSQL connection URL; unset = embedded PGlite.',
  },
  'database.password': {
    env: 'DATABASE_PASSWORD', yaml: 'database.password', secretFile: 'database-password', secret: true,
    description: 'PostgreSQL password; overrides the one in DATABASE_URL.',
  },
  'database.poolSize': { env: 'DATABASE_POOL_SIZE', yaml: 'database.pool_size', description: 'Most pooled connections (embedded mode always uses 1).' },
  'metrics.port': { env: 'BATCH_PROCESSING_METRICS_PORT', yaml: 'monitoring.metrics_port', description: 'Port of the Prometheus endpoint (/metrics) of the local runtime; the API port serves it too.' },
  'metrics.pushgatewayUrl': { env: 'PROMETHEUS_PUSHGATEWAY_URL', yaml: 'monitoring.pushgateway_url', description: 'Pushgateway the functions push their metrics to (grouping key job = function name, instance); unset = no push (the local runtime then serves them on its /metrics), and no alert on run metrics has data from a deployment. Named in stack.yml (docs/configuration.md: settings stack.yml names).' },
  'metrics.instance': { env: 'BATCH_PROCESSING_METRICS_INSTANCE', yaml: 'monitoring.instance', description: 'The `instance` label of pushed and runtime-collected function metrics; unset = the host name (the pod name on Kubernetes).' },
  'openfaas.gatewayUrl': { env: 'OPENFAAS_GATEWAY_URL', yaml: 'openfaas.gateway_url', description: 'OpenFaaS gateway faas-cli deploys to (stack.yml provider.gateway) and the standalone Kafka bridge delivers to.' },
  'openfaas.gatewayPort': { env: 'GATEWAY_PORT', yaml: 'openfaas.gateway_port', description: 'Port of the local runtime\'s gateway.' },
  'log.level': { env: 'LOG_LEVEL', yaml: 'logging.level', description: 'Lowest pino level written.' },
  's3.endpoint': { env: 'S3_ENDPOINT', yaml: 's3.endpoint', description: 'S3/MinIO endpoint; unset = AWS S3 (the SDK\'s endpoint of the region). Named in stack.yml (docs/configuration.md: settings stack.yml names).' },
  's3.bucket': { env: 'S3_BUCKET', yaml: 's3.bucket', description: 'Bucket of archives and reports; unset = the local archive folder (retention.archival.path) instead. Named in stack.yml (docs/configuration.md: settings stack.yml names).' },
  's3.region': { env: 'S3_REGION', yaml: 's3.region', description: 'S3 region. Named in stack.yml (docs/configuration.md: settings stack.yml names).' },
  's3.accessKeyId': {
    env: 'S3_ACCESS_KEY_ID', yaml: 's3.access_key_id', secretFile: 's3-access-key-id', secret: true,
    description: 'S3 access key id; unset = the SDK\'s default credential chain.',
  },
  's3.secretAccessKey': {
    env: 'S3_SECRET_ACCESS_KEY', yaml: 's3.secret_access_key', secretFile: 's3-secret-access-key', secret: true,
    description: 'S3 secret access key.',
  },
  's3.forcePathStyle': { env: 'S3_FORCE_PATH_STYLE', yaml: 's3.force_path_style', description: 'Path-style bucket addressing (MinIO and most S3 gateways need it). Named in stack.yml (docs/configuration.md: settings stack.yml names).' },
  's3.prefix': { env: 'S3_PREFIX', yaml: 's3.prefix', description: 'Key prefix of everything stored in the bucket (archives, reports); unset = the bucket root. Named in stack.yml (docs/configuration.md: settings stack.yml names).' },
};

export const settingKeys = Object.keys(settings) as SettingKey[];

/** Secret keys (non-enumerable in the loaded config, redacted everywhere). */
export const secretKeys = settingKeys.filter((key) => settings[key].secret === true);
