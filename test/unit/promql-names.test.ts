// The metric-name extraction the rule and dashboard checks rely on.
import test from 'ava';
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
