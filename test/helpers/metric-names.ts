// Every metric name Prometheus can see from hxp-batch: the catalogue's (with a histogram's _bucket, _sum and
// _count series) and the Pushgateway's own per-group series. Alert rules and dashboard queries are checked
// against this set.
import { metricDefinitions } from '../../shared/metrics/index.ts';

/**
 * Metrics that other issues' functions define in their own modules, named by those issues and read by the
 * rules and the dashboard before the functions land. Remove an entry when its module registers it (the
 * catalogue or its registry then supplies the name).
 */
export const PENDING_METRICS: Readonly<Record<string, string>> = {};

/** Series the Pushgateway adds to every group it serves. */
const PUSHGATEWAY_SERIES = ['push_time_seconds', 'push_failure_time_seconds'];

export function knownMetricNames(): Set<string> {
  const names = new Set<string>([...PUSHGATEWAY_SERIES, ...Object.keys(PENDING_METRICS)]);
  for (const def of metricDefinitions) {
    names.add(def.name);
    if (def.type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(def.name + s);
  }
  return names;
}
