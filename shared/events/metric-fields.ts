// The metric fields of the known event types. Any numeric field of `data` becomes a metric named by its
// key, and a string in most fields is simply kept raw; but these fields are the metrics their type is
// for, so a value that is not a number (or true/false) there — `"latency_ms": "fast"` — is refused with
// the field named, instead of being stored and silently left out of the aggregates. null counts as absent.
import { preview, rejection, type Rejection } from './rejection.ts';

export const KNOWN_METRIC_FIELDS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  llm_request: ['latency_ms', 'tokens_in', 'tokens_out', 'cost_usd', 'error'],
  system_metric: ['cpu_usage', 'memory_usage', 'gpu_usage', 'disk_usage'],
  user_feedback: ['rating'],
  business_event: ['value_usd'],
});

/** The first known metric field of the event's type that holds something other than a number or boolean. */
export function nonNumericMetric(eventType: string, data: Record<string, unknown>): Rejection | undefined {
  const fields = KNOWN_METRIC_FIELDS[eventType];
  if (fields === undefined) return undefined;
  for (const name of fields) {
    const value = data[name];
    if (value === undefined || value === null || typeof value === 'number' || typeof value === 'boolean') {
      continue;
    }
    return rejection(
      'EVENT_SCHEMA',
      `event field "data.${name}" is a metric of ${eventType} and must be a number (or true/false); got ` +
        `${preview(value)} — send the measured value, e.g. 812, or leave the field out`,
      `data.${name}`,
    );
  }
  return undefined;
}

/**
 * For the plain text path (normalize-plain.ts), which sees metric fields only as numbers: true when a known
 * metric field of the type appears in `dataJson` without having been read as a number, so the general
 * path must decide (it refuses the event, or finds the key only nested deeper and accepts it).
 */
export function mayHideNonNumericMetric(
  eventType: string,
  metricNames: readonly string[],
  dataJson: string,
): boolean {
  const fields = KNOWN_METRIC_FIELDS[eventType];
  if (fields === undefined) return false;
  for (const name of fields) {
    if (!metricNames.includes(name) && dataJson.includes(`"${name}":`)) return true;
  }
  return false;
}
