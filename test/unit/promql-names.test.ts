// The metric-name extraction the rule and dashboard checks rely on.
import test from 'ava';
import { catalogueProblems } from '../helpers/metric-names.ts';
import { promqlMetricNames } from '../helpers/promql.ts';

test('names are read past functions, matchers, ranges, label lists, strings and keywords', (t) => {
  t.deepEqual(
    promqlMetricNames(
      'sum by (job, le) (rate(batch_processing_duration_seconds_bucket{job=~"agg.*", le!="+Inf"}[$__rate_interval]))',
    ),
    ['batch_processing_duration_seconds_bucket'],
  );
  t.deepEqual(
    promqlMetricNames(
      'a_total offset 1h > on (job) group_left (instance) b:rec:rate5m and bool 2 * 86400 unless label_replace(c, "x", "$1", "y", "(.*)")',
    ),
    ['a_total', 'b:rec:rate5m', 'c'],
  );
  t.deepEqual(promqlMetricNames('time() - max(x_seconds) > 2e3'), ['x_seconds']);
});

test('catalogueProblems finds the kinds of mistake a rule or a panel can make against the catalogue', (t) => {
  const none = new Map<string, string>();
  t.deepEqual(catalogueProblems('rate(hxp_aggregation_dirty_windows_bucket[5m])', none), [
    'hxp_aggregation_dirty_windows_bucket: hxp_aggregation_dirty_windows is a gauge, it has no _bucket series',
  ]);
  t.deepEqual(catalogueProblems('rate(hxp_dead_letters[5m])', none), [
    'rate(hxp_dead_letters): hxp_dead_letters is a gauge, not a counter',
  ]);
  t.deepEqual(catalogueProblems('hxp_dead_letters{via="http"}', none), [
    'hxp_dead_letters{via}: hxp_dead_letters has no label via',
  ]);
  t.deepEqual(catalogueProblems('sum by (path) (rate(hxp_function_invocations_total[5m]))', none), [
    'path: no metric read by sum by (path) (rate(hxp_function_invocations_total[5m])) has this label',
  ]);
  const recorded = new Map([
    ['period:f:max', 'max without (instance, job) (hxp_aggregation_freshness_seconds)'],
  ]);
  t.deepEqual(catalogueProblems('period:f:max{period="daily"}', recorded, ['period', 'job']), []);
  t.deepEqual(catalogueProblems('period:f:max{topic="x"}', recorded, ['reason']), [
    'topic: no metric read by period:f:max{topic="x"} has this label',
    'reason: no metric read by period:f:max{topic="x"} has this label',
  ]);
  // the ones that are right: a histogram's buckets by le, a counter's rate, a gauge named *_count, label_replace
  t.deepEqual(
    catalogueProblems(
      'histogram_quantile(0.9, sum by (job, le) (rate(hxp_function_duration_seconds_bucket[5m]))) + max(gateway_service_count) ' +
        '+ on (job) label_replace(increase(hxp_runtime_function_restarts_total[1h]), "job", "$1", "function_name", "(.*)")',
      none,
    ),
    [],
  );
});
