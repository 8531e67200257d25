// The Grafana dashboard of hxp-batch, built with @grafana/grafana-foundation-sdk (typed builders, not hand-edited
// JSON). `npm run dashboards` writes it to deploy/grafana/batch-processing.json; a test checks the file is
// current, that every query parses (promtool) and that it reads only metrics the code exposes or the recording
// rules of deploy/prometheus/rules record. The original's panels come first: success rate, duration, the four
// aggregation levels, report generation.
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as gauge from '@grafana/grafana-foundation-sdk/gauge';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

export const DASHBOARD_UID = 'hxp-batch-processing';
const DATASOURCE: dashboard.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

function query(expr: string, legend?: string, instant = false, refId = 'A'): prometheus.DataqueryBuilder {
  const q = new prometheus.DataqueryBuilder().datasource(DATASOURCE).expr(expr).refId(refId);
  if (legend !== undefined) q.legendFormat(legend);
  if (instant) q.instant();
  return q;
}

function thresholds(steps: dashboard.Threshold[]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(steps);
}

const GREEN = 'green';
const RED = 'red';
const ORANGE = 'orange';
const GREY = 'text';

function valueMap(options: Record<string, { text: string; color: string }>): dashboard.ValueMapping[] {
  return [{ type: dashboard.MappingType.ValueToText, options }];
}

function statPanel(title: string, description: string): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.Background)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
}

function seriesPanel(title: string, description: string, unit: string): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .lineWidth(1)
    .fillOpacity(10)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom),
    );
}

function aggregationStatus(period: 'hourly' | 'daily' | 'weekly' | 'monthly'): stat.PanelBuilder {
  return statPanel(
    `${period[0]!.toUpperCase()}${period.slice(1)} aggregation`,
    `data_aggregation_${period}_status: 1 = last run succeeded (or running) and no window failing, 0 = failed, -1 = never run`,
  )
    .withTarget(query(`max(data_aggregation_${period}_status)`, period, true))
    .mappings(
      valueMap({
        '1': { text: 'OK', color: GREEN },
        '0': { text: 'FAILED', color: RED },
        '-1': { text: 'NOT RUN YET', color: GREY },
      }),
    )
    .thresholds(thresholds([{ value: null, color: GREY }]))
    .height(4)
    .span(6);
}

export function batchProcessingDashboard(): dashboard.Dashboard {
  const builder = new dashboard.DashboardBuilder('hxp-batch — batch processing')
    .uid(DASHBOARD_UID)
    .description(
      'Runs, aggregation, ingestion, reports, capacity and storage of hxp-batch (metrics: docs/metrics.md)',
    )
    .tags(['hxp-batch', 'openfaas', 'batch-processing'])
    .editable()
    .refresh('30s')
    .time({ from: 'now-24h', to: 'now' })
    .timezone('browser')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .withVariable(
      new dashboard.DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus'),
    )

    // ---- the original's panels -------------------------------------------------------------------------
    .withRow(new dashboard.RowBuilder('Batch jobs'))
    .withPanel(
      statPanel(
        'Success rate (last run)',
        'batch_processing_success_rate of the newest instance per job: the share of its work units that succeeded',
      )
        .withTarget(query('job:batch_processing_success_rate:last', '{{job}}', true))
        .unit('percentunit')
        .decimals(0)
        .thresholds(
          thresholds([
            { value: null, color: RED },
            { value: 0.95, color: ORANGE },
            { value: 1, color: GREEN },
          ]),
        )
        .height(6)
        .span(8),
    )
    .withPanel(
      statPanel(
        'Completion rate (last run)',
        'batch_processing_completion_rate: the share of the work due at the start of the run that it got through',
      )
        .withTarget(query('job:batch_processing_completion_rate:last', '{{job}}', true))
        .unit('percentunit')
        .decimals(0)
        .thresholds(
          thresholds([
            { value: null, color: ORANGE },
            { value: 1, color: GREEN },
          ]),
        )
        .height(6)
        .span(8),
    )
    .withPanel(
      seriesPanel(
        'Run duration',
        'batch_processing_duration_seconds: the last run per job, and the 95th percentile of the last day',
        's',
      )
        .withTarget(query('job:batch_processing_last_run_duration_seconds:last', '{{job}} last'))
        .withTarget(query('job:batch_processing_duration_seconds:p95_1d', '{{job}} p95 (1d)', false, 'B'))
        .height(6)
        .span(8),
    )
    .withPanel(aggregationStatus('hourly'))
    .withPanel(aggregationStatus('daily'))
    .withPanel(aggregationStatus('weekly'))
    .withPanel(aggregationStatus('monthly'))
    .withPanel(
      statPanel(
        'Report generation',
        'report_generation_status per report type and format: 1 = the newest report was stored, 0 = it failed',
      )
        .withTarget(
          query(
            'max by (report_type, format) (report_generation_status)',
            '{{report_type}} {{format}}',
            true,
          ),
        )
        .mappings(valueMap({ '1': { text: 'STORED', color: GREEN }, '0': { text: 'FAILED', color: RED } }))
        .thresholds(thresholds([{ value: null, color: GREY }]))
        .height(5)
        .span(12),
    )
    .withPanel(
      seriesPanel('Runs by result', 'batch_processing_runs_total per job and result, per hour', 'short')
        .withTarget(query('job_result:batch_processing_runs:increase1h', '{{job}} {{result}}'))
        .drawStyle(common.GraphDrawStyle.Bars)
        .height(5)
        .span(12),
    )

    // ---- aggregation --------------------------------------------------------------------------------
    .withRow(new dashboard.RowBuilder('Aggregation'))
    .withPanel(
      seriesPanel(
        'Freshness and lag',
        'hxp_aggregation_freshness_seconds: time since the end of the newest completely aggregated bucket; hxp_aggregation_lag_seconds: since the end of the oldest closed window still waiting (the only line of a period that never completed a bucket), per period',
        's',
      )
        .withTarget(query('period:hxp_aggregation_freshness_seconds:max', '{{period}} freshness'))
        .withTarget(query('period:hxp_aggregation_lag_seconds:max', '{{period}} lag', false, 'B'))
        .height(7)
        .span(12),
    )
    .withPanel(
      seriesPanel(
        'Dirty and failing windows',
        'hxp_aggregation_dirty_windows (closed windows with data not aggregated yet) and hxp_aggregation_failing_windows',
        'short',
      )
        .withTarget(query('period:hxp_aggregation_dirty_windows:max', '{{period}} dirty'))
        .withTarget(
          query(
            'max without (instance, job) (hxp_aggregation_failing_windows)',
            '{{period}} failing',
            false,
            'B',
          ),
        )
        .height(7)
        .span(12),
    )

    // ---- ingestion ----------------------------------------------------------------------------------
    .withRow(new dashboard.RowBuilder('Ingestion'))
    .withPanel(
      seriesPanel('Events per second', 'hxp_ingest_events_total by way in and outcome', 'ops')
        .withTarget(query('via_outcome:hxp_ingest_events:rate5m', '{{via}} {{outcome}}'))
        .height(7)
        .span(8),
    )
    .withPanel(
      seriesPanel('Rejected per second by reason', 'hxp_ingest_rejected_total by reason code', 'ops')
        .withTarget(query('reason:hxp_ingest_rejected:rate5m', '{{reason}}'))
        .height(7)
        .span(8),
    )
    .withPanel(
      seriesPanel(
        'Dead letters',
        'hxp_dead_letters in the database by reason code (GET /dead-letters lists them)',
        'short',
      )
        .withTarget(query('reason:hxp_dead_letters:max', '{{reason}}'))
        .height(7)
        .span(8),
    )
    .withPanel(
      seriesPanel(
        'Kafka consumer lag',
        'hxp_kafka_consumer_lag_messages per raw-topic partition: high watermark minus the offset stored in PostgreSQL',
        'short',
      )
        .withTarget(
          query('max without (instance, job) (hxp_kafka_consumer_lag_messages)', '{{topic}}/{{partition}}'),
        )
        .height(7)
        .span(24),
    )

    // ---- reports, capacity, storage ------------------------------------------------------------------
    .withRow(new dashboard.RowBuilder('Capacity and storage'))
    .withPanel(
      seriesPanel(
        'Capacity forecast: days to threshold',
        'capacity_forecast_days_to_threshold per resource and series (analyze-capacity); the alert horizon is 14 days',
        'd',
      )
        .withTarget(
          query('min by (resource, series) (capacity_forecast_days_to_threshold)', '{{resource}} {{series}}'),
        )
        .height(7)
        .span(16),
    )
    .withPanel(
      new gauge.PanelBuilder()
        .title('Storage usage')
        .description(
          'data_retention_storage_usage: used share of the quota per store; the alert fires above 90 %',
        )
        .datasource(DATASOURCE)
        .withTarget(query('max by (store) (data_retention_storage_usage)', '{{store}}', true))
        .unit('percentunit')
        .min(0)
        .max(1)
        .thresholds(
          thresholds([
            { value: null, color: GREEN },
            { value: 0.75, color: ORANGE },
            { value: 0.9, color: RED },
          ]),
        )
        .height(7)
        .span(8),
    )

    // ---- function processes --------------------------------------------------------------------------
    .withRow(new dashboard.RowBuilder('Functions'))
    .withPanel(
      seriesPanel(
        'Invocations per second',
        'hxp_function_invocations_total per function and HTTP status',
        'ops',
      )
        .withTarget(query('job_code:hxp_function_invocations:rate5m', '{{job}} {{code}}'))
        .height(7)
        .span(12),
    )
    .withPanel(
      seriesPanel(
        'Invocation duration p95',
        'hxp_function_duration_seconds, 95th percentile over 5 minutes',
        's',
      )
        .withTarget(query('job:hxp_function_duration_seconds:p95_5m', '{{job}}'))
        .height(7)
        .span(12),
    );
  return numbered(builder.build());
}

/** Grafana keys panels by id: rows and panels get 1, 2, … in layout order. */
function numbered(built: dashboard.Dashboard): dashboard.Dashboard {
  let id = 0;
  for (const panel of built.panels ?? []) panel.id = ++id;
  return built;
}

/** The dashboard as deploy/grafana/batch-processing.json holds it. */
export function renderBatchProcessingDashboard(): string {
  return `${JSON.stringify(batchProcessingDashboard(), null, 2)}\n`;
}
