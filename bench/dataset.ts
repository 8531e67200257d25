// The benchmark's events: runtime/demo's deterministic LLM-platform stream (seeded), with its request rate
// calibrated so that `events` events fill `days` days ending at the last UTC midnight. Every size covers
// the same span, so hour/day/week/month bucket counts match between sizes. Streams; never holds more than
// one hour of events.
import { dailyLoad, generateDemoEvents, type DemoEvent } from '../runtime/demo/generate.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface Span {
  start: Date;
  /** Exclusive. */
  end: Date;
}

/** `days` whole UTC days ending at the last midnight before `now`. */
export function benchSpan(days: number, now = new Date()): Span {
  const end = new Date(Math.floor(now.getTime() / DAY) * DAY);
  return { start: new Date(end.getTime() - days * DAY), end };
}

// Per hour, runtime/demo emits Poisson(perHour·load) requests, 5 % of them followed by a feedback event,
// 2 hosts × 12 system samples, and Poisson(3·load) business events.
const SYSTEM_PER_HOUR = 24;
const FEEDBACK_SHARE = 0.05;
const BUSINESS_PER_LOAD = 3;

/** The `requestsPerHour` that makes the expected total over `span` equal `events`. */
export function requestsPerHourFor(events: number, span: Span): number {
  let hours = 0;
  let load = 0;
  for (let t = span.start.getTime(); t < span.end.getTime(); t += HOUR) {
    hours += 1;
    load += dailyLoad(new Date(t + HOUR / 2));
  }
  const requests =
    (events - SYSTEM_PER_HOUR * hours - BUSINESS_PER_LOAD * load) / ((1 + FEEDBACK_SHARE) * load);
  if (requests < 1) {
    throw new Error(
      `${events} events are too few for ${hours} hours (the host metrics alone are ${SYSTEM_PER_HOUR * hours}); ` +
        'use more events or fewer --days',
    );
  }
  return requests;
}

export function benchEvents(events: number, span: Span, seed: number): Generator<DemoEvent> {
  const days = Math.round((span.end.getTime() - span.start.getTime()) / DAY);
  return generateDemoEvents({ end: span.end, days, seed, requestsPerHour: requestsPerHourFor(events, span) });
}
