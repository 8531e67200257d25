// Every metric name Prometheus can see from hxp-batch: the catalogue's (with a histogram's _bucket, _sum and
// _count series) and the Pushgateway's own per-group series. Alert rules and dashboard queries are checked
// against this set.
import { metricDefinitions, type MetricDefinition } from '../../shared/metrics/index.ts';
import { promqlUses } from './promql.ts';

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

/** Labels every series has once scraped or pushed (the target's, the Pushgateway group's). */
const TARGET_LABELS = ['job', 'instance'];
const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;

function definitionOf(name: string): { def: MetricDefinition; suffix: string } | undefined {
  const whole = metricDefinitions.find((d) => d.name === name);
  if (whole) return { def: whole, suffix: '' };
  const base = metricDefinitions.find((d) => d.name === name.replace(HISTOGRAM_SUFFIX, ''));
  return base ? { def: base, suffix: name.slice(base.name.length) } : undefined;
}

/**
 * What is wrong in `expr` against the catalogue: a histogram series of a metric that is no histogram, rate()
 * or increase() of a gauge, a matcher on a label the metric does not have, and a grouping, join or template
 * label (`templateLabels`: a legend's {{x}}, an annotation's $labels.x) that none of the metrics read has.
 * `recorded` maps each recording rule to its expression, so the labels behind a recorded series count.
 */
export function catalogueProblems(
  expr: string,
  recorded: ReadonlyMap<string, string>,
  templateLabels: readonly string[] = [],
): string[] {
  const problems: string[] = [];
  const available = new Set<string>(TARGET_LABELS);
  const recordedMatchers: string[] = [];
  const visit = (e: string, seen: Set<string>, top: boolean): void => {
    const uses = promqlUses(e);
    for (const label of uses.writtenLabels) available.add(label);
    for (const s of uses.selectors) {
      const source = recorded.get(s.name);
      if (source !== undefined) {
        if (top) recordedMatchers.push(...s.matchers);
        if (!seen.has(s.name)) visit(source, new Set([...seen, s.name]), false);
        continue;
      }
      const found = definitionOf(s.name);
      if (!found) continue; // not ours (push_time_seconds): the name checks cover it
      const { def, suffix } = found;
      for (const l of def.labelNames) available.add(l);
      if (suffix !== '' && def.type !== 'histogram')
        problems.push(`${s.name}: ${def.name} is a ${def.type}, it has no ${suffix} series`);
      if (suffix === '_bucket') available.add('le');
      if (!top) continue;
      if (s.counterFunction && suffix === '' && def.type !== 'counter')
        problems.push(`${s.counterFunction}(${s.name}): ${def.name} is a ${def.type}, not a counter`);
      const own = new Set([...def.labelNames, ...TARGET_LABELS, ...(suffix === '_bucket' ? ['le'] : [])]);
      for (const m of s.matchers)
        if (!own.has(m)) problems.push(`${s.name}{${m}}: ${def.name} has no label ${m}`);
    }
  };
  visit(expr, new Set(), true);
  for (const label of [...promqlUses(expr).groupingLabels, ...recordedMatchers, ...templateLabels])
    if (!available.has(label)) problems.push(`${label}: no metric read by ${expr.trim()} has this label`);
  return problems;
}
