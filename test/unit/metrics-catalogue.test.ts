// The metric catalogue: the original's names exactly, units in names, HELP on everything, bounded labels;
// every registry the code builds holds catalogue metrics only, as the catalogue defines them; docs/metrics.md
// is what the generator writes.
import { readFileSync } from 'node:fs';
import test from 'ava';
import { Registry } from 'prom-client';
import { createRuntimeMetrics } from '../../runtime/metrics.ts';
import {
  FORBIDDEN_LABELS,
  functionMetrics,
  gaugeOf,
  ingestMetrics,
  METRICS,
  metricDefinitions,
  runMetrics,
} from '../../shared/metrics/index.ts';
import { renderMetricsDocs } from '../../shared/metrics/docs.ts';

const ORIGINAL = [
  'batch_processing_success_rate',
  'batch_processing_completion_rate',
  'batch_processing_duration_seconds',
  'data_aggregation_hourly_status',
  'data_aggregation_daily_status',
  'data_aggregation_weekly_status',
  'data_aggregation_monthly_status',
  'report_generation_status',
  'data_retention_storage_usage',
];

test("the original service's metric names are all defined, exactly", (t) => {
  const names = new Set(metricDefinitions.map((d) => d.name));
  for (const name of ORIGINAL) t.true(names.has(name), name);
});

test('names are unique snake_case with their unit; counters end in _total', (t) => {
  const names = metricDefinitions.map((d) => d.name);
  t.is(new Set(names).size, names.length);
  for (const def of metricDefinitions) {
    t.regex(def.name, /^[a-z][a-z0-9_]*$/, def.name);
    if (def.type === 'counter') t.regex(def.name, /_total$/, def.name);
    else t.notRegex(def.name, /_total$/, def.name);
    if (def.type === 'histogram') t.regex(def.name, /_seconds$/, `${def.name}: a histogram of durations`);
    if (/timestamp|duration|freshness|_time_/.test(def.name)) t.regex(def.name, /_seconds$/, def.name);
    if (ORIGINAL.includes(def.name)) continue;
    // Named by the capacity issue exactly (days, as capacity planners count them; +Inf when no crossing).
    if (def.name === 'capacity_forecast_days_to_threshold') continue;
    // Ours say what they count or measure in their last word (unit, _total, or a state/status/count noun).
    t.regex(
      def.name,
      /_(total|seconds|bytes|messages|ratio|windows|state|success|count|depth|dead_letters)$|^hxp_dead_letters$/,
      def.name,
    );
  }
});

test('every metric has HELP text and bounded labels only', (t) => {
  for (const def of metricDefinitions) {
    t.true(def.help.length >= 20, `${def.name}: HELP says what it is`);
    t.false(def.help.endsWith('.'), `${def.name}: the docs add the full stop`);
    for (const label of def.labelNames) {
      t.false((FORBIDDEN_LABELS as readonly string[]).includes(label), `${def.name}{${label}}`);
      t.regex(label, /^[a-z][a-z0-9_]*$/);
    }
    if (def.type === 'histogram') t.true((def.buckets?.length ?? 0) >= 5, `${def.name}: buckets`);
  }
});

test('the registries the code builds hold catalogue metrics as defined, once each', async (t) => {
  const byName = new Map(metricDefinitions.map((d) => [d.name, d]));
  const process = new Registry();
  functionMetrics(process);
  runMetrics(process);
  ingestMetrics(process);
  runMetrics(process); // a second handle on the same registry registers nothing twice
  const runtime = createRuntimeMetrics({ defaultMetrics: false }).registry;
  for (const registry of [process, runtime]) {
    for (const m of await registry.getMetricsAsJSON()) {
      const def = byName.get(m.name);
      t.truthy(def, `${m.name} is in the catalogue`);
      t.is(String(m.type), String(def?.type));
      t.is(m.help, String(def?.help));
    }
  }
  t.throws(() => gaugeOf({ ...METRICS.runs, type: 'gauge' }, process), {
    message: /already registered as a counter/,
  });
});

test('docs/metrics.md is what scripts/gen-metrics-docs.ts generates (run it after changing the catalogue)', (t) => {
  const committed = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
  t.is(committed, renderMetricsDocs());
  for (const def of metricDefinitions) t.true(committed.includes(`| \`${def.name}\` |`), def.name);
});
