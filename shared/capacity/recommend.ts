// Scaling recommendations, each one sentence with its arithmetic, from a series' peak (the forecast's, or
// the last week's when forecasting is off) against its threshold:
//   hosts     (cpu, memory, gpu; the fleet's load spreads over its hosts)  N·peak/threshold hosts, rounded up
//   replicas  (requests, tokens; a limit per replica)                      peak/(limit·threshold) replicas
//   storage   (disk; each host's own volume)                               grow by peak/threshold, in 5 % steps
//   objective (latency, cost; no proportional lever)                       review, no count
// Scale-down when the weekly p95 stayed under capacityAnalysis.scaleDown.percent of the limit for
// scaleDown.weeks whole weeks and fewer hosts or replicas still keep the peak under the threshold.
import type { ResourceSpec } from './resources.ts';
import type { Recommendation } from './types.ts';

export interface Peak {
  value: number;
  timestamp: string;
  /** forecast: the point forecast's maximum; history: the last week's maximum (forecasting off). */
  from: 'forecast' | 'history';
  /** When the forecast is held at 100 %: the peak the trend asks beyond it (sizing uses this). */
  demand?: { value: number; timestamp: string };
}

export interface RecommendInput {
  spec: ResourceSpec;
  /** 'fleet' or the host/source. */
  series: string;
  isFleet: boolean;
  /** Hosts or replicas reporting (the fleet's). */
  hosts: number;
  peak: Peak;
  /** Weekly p95 of the last scaleDown.weeks whole weeks, oldest first; undefined with less history. */
  weeklyP95: number[] | undefined;
  scaleDown: { percent: number; weeks: number };
  /** For a host's series: whether the fleet's own peak stays under its threshold. */
  fleetUnderThreshold?: boolean;
  fleetPeak?: number;
  /** When the point forecast crosses the threshold, a day or more ahead: "on 2026-12-10 (95 %: 2026-12-09 – 2026-12-11)". */
  crossing?: string | undefined;
  timeZone: string;
}

/** The formatter of one form in `zone`, made once: making an Intl.DateTimeFormat costs far more than using it. */
function formatterIn(
  made: Map<string, Intl.DateTimeFormat>,
  zone: string,
  make: (timeZone: string) => Intl.DateTimeFormat,
): Intl.DateTimeFormat {
  let f = made.get(zone);
  if (!f) made.set(zone, (f = make(zone)));
  return f;
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();
/** "2026-12-10": the local date of `timestamp` in `zone`. */
export function day(timestamp: string, zone: string): string {
  const f = formatterIn(
    dateFormats,
    zone,
    (timeZone) =>
      new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }),
  );
  return f.format(new Date(timestamp));
}

const hourFormats = new Map<string, Intl.DateTimeFormat>();
/** "09:00": the local time of `timestamp` in `zone`. */
export function hourOf(timestamp: string, zone: string): string {
  const f = formatterIn(
    hourFormats,
    zone,
    (timeZone) =>
      new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
  );
  return f.format(new Date(timestamp));
}

/**
 * When a line is crossed, with the 95 % band's range: "on 2026-12-14 (95 %: 2026-12-07 – 2026-12-22)". A
 * range within one day gives its hours — "on 2026-12-11 (95 %: between 09:00 and 22:00 that day)" — rather
 * than reading "2026-12-11 – 2026-12-11". The range holds the point's day: the band's upper edge reaches
 * the line no later than the point forecast, its lower edge no earlier.
 */
export function crossingPhrase(
  dates: { point_at: string; earliest_at: string | null; latest_at: string | null },
  zone: string,
): string {
  const on = `on ${day(dates.point_at, zone)}`;
  const earliest = dates.earliest_at ?? dates.point_at;
  if (dates.latest_at === null) return `${on} (95 %: ${day(earliest, zone)} – past the horizon)`;
  if (day(earliest, zone) === day(dates.latest_at, zone)) {
    return `${on} (95 %: between ${hourOf(earliest, zone)} and ${hourOf(dates.latest_at, zone)} that day)`;
  }
  return `${on} (95 %: ${day(earliest, zone)} – ${day(dates.latest_at, zone)})`;
}

/** 91 → "91 %"; 5400 → "5,400 requests/h"; 0.4213 → "0.42 USD/h". */
export function formatValue(value: number, unit: string): string {
  if (unit === '%') return `${Math.round(value)} %`;
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toLocaleString('en-US', { maximumFractionDigits: digits })} ${unit}`;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
/** "3 hosts keep" / "1 host keeps". */
const keep = (n: number, word: string): string => `${plural(n, word)} ${n === 1 ? 'keeps' : 'keep'}`;
const pct = (v: number): string => `${Math.round(v)} %`;

function rec(
  action: Recommendation['action'],
  text: string,
  current?: number,
  recommended?: number,
): Recommendation {
  return { action, text, current: current ?? null, recommended: recommended ?? null };
}

export function recommend(input: RecommendInput): Recommendation[] {
  const { spec, peak, hosts } = input;
  const name = input.isFleet ? spec.resource : `${spec.resource} on ${input.series}`;
  const when = peak.from === 'forecast' ? `peak forecast` : 'peak in the last 7 days';
  const on = ` on ${day(peak.timestamp, input.timeZone)}`;
  const limit = spec.limit;
  const percent = spec.thresholdPercent;
  // A share that rounds to the threshold is shown to a tenth, so "79.6 %, under 80 %" never reads "80 %, under 80 %".
  const share_ = (v: number): string =>
    Math.round(v) === Math.round(percent) ? `${v.toFixed(1)} %` : pct(v);
  const crossing = input.crossing ? `, crossing ${pct(percent)} ${input.crossing}` : '';
  const unitWord = spec.scaling === 'replicas' ? 'replica' : 'host';

  if (limit === undefined) {
    const each =
      input.isFleet && hosts > 1
        ? ` across ${plural(hosts, 'source')} (${formatValue(peak.value / hosts, spec.unit)} each)`
        : '';
    return [
      rec(
        'configure',
        `${name}: ${when} ${formatValue(peak.value, spec.unit)}${on}${each}; set BATCH_PROCESSING_CAPACITY_LIMITS=${spec.resource}=<${spec.unit} one ${unitWord} handles> to get a threshold, days to it and a ${unitWord} count`,
      ),
    ];
  }

  // The series' own capacity: a replica fleet's is limit × replicas; everything else is in percent of one.
  const capacity = spec.scaling === 'replicas' && input.isFleet ? limit * hosts : limit;
  const line = (capacity * percent) / 100;
  // Sizing follows what the trend asks; a forecast held at 100 % says so, with the day it gets there:
  // "100 % from 2026-12-28 (the trend asks 110 % by 2027-01-05)".
  const share = ((peak.demand ?? peak).value / capacity) * 100;
  const reads = peak.demand
    ? `${share_((peak.value / capacity) * 100)} from ${day(peak.timestamp, input.timeZone)} (the trend asks ${pct(share)} by ${day(peak.demand.timestamp, input.timeZone)})`
    : `${share_(share)}${on}`;

  if (spec.scaling === 'objective') {
    return peak.value >= line
      ? [
          rec(
            'review',
            `${name}: ${when} ${formatValue(peak.value, spec.unit)}${on} is over ${pct(percent)} of the ${formatValue(limit, spec.unit)} ${spec.resource === 'cost' ? 'budget' : 'objective'} (${formatValue(line, spec.unit)}); find the cause or raise it — ${spec.resource} does not move in proportion to added capacity, so no count is given`,
          ),
        ]
      : [
          rec(
            'hold',
            `${name}: ${when} ${formatValue(peak.value, spec.unit)}${on}, under ${pct(percent)} of the ${formatValue(limit, spec.unit)} ${spec.resource === 'cost' ? 'budget' : 'objective'}: no change needed`,
          ),
        ];
  }

  if (spec.scaling === 'storage') {
    if (share < percent)
      return [rec('hold', `${name}: ${when} ${reads}, under ${pct(percent)}: no change needed`)];
    const factor = Math.ceil((share / percent) * 20) / 20;
    return [
      rec(
        'grow_storage',
        `${name}: ${when} ${reads}${crossing}; growing ${input.isFleet ? 'the volumes' : 'its volume'} by ${pct((factor - 1) * 100)} (${factor.toFixed(2)}×) keeps it at ${share_(share / factor)}, under ${pct(percent)}`,
      ),
    ];
  }

  if (!input.isFleet) {
    if (share < percent)
      return [rec('hold', `${name}: ${when} ${reads}, under ${pct(percent)}: no change needed`)];
    if (input.fleetUnderThreshold) {
      return [
        rec(
          'rebalance',
          `${name}: ${when} ${reads}, over ${pct(percent)}, while the fleet peaks at ${share_(input.fleetPeak ?? 0)}: move load from it to the other ${unitWord}s`,
        ),
      ];
    }
    return [
      rec(
        'scale_up',
        `${name}: ${when} ${reads}, over ${pct(percent)}; the fleet needs more ${unitWord}s (see its recommendation)`,
      ),
    ];
  }

  // The fleet: how many hosts (replicas) keep the peak under the threshold, the load spread evenly.
  const peakShare =
    spec.scaling === 'replicas'
      ? `${formatValue(peak.value, spec.unit)}${on} with ${plural(hosts, unitWord)} of ${formatValue(limit, spec.unit)} (${share_(share)} of ${formatValue(capacity, spec.unit)})${crossing}`
      : `${reads} with ${plural(hosts, unitWord)}${crossing}`;
  const needed = Math.max(1, Math.ceil((hosts * share) / percent - 1e-9));
  const keptAt = (count: number): number => (share * hosts) / count;
  if (needed > hosts) {
    return [
      rec(
        'scale_up',
        `${name}: ${when} ${peakShare}; ${keep(needed, unitWord)} it at ${share_(keptAt(needed))}, under ${pct(percent)}`,
        hosts,
        needed,
      ),
    ];
  }
  const weekly = input.weeklyP95;
  const floor = input.scaleDown.percent;
  const capacityNow = spec.scaling === 'replicas' ? capacity : limit;
  if (weekly && hosts > 1 && needed < hosts && weekly.every((p) => (p / capacityNow) * 100 < floor)) {
    const list = weekly.map((p) => pct((p / capacityNow) * 100)).join(', ');
    return [
      rec(
        'scale_down',
        `${name}: weekly p95 stayed under ${pct(floor)} for ${plural(input.scaleDown.weeks, 'week')} (${list}); ${when} ${peakShare}; ${keep(needed, unitWord)} it at ${share_(keptAt(needed))}, under ${pct(percent)}`,
        hosts,
        needed,
      ),
    ];
  }
  return [
    rec('hold', `${name}: ${when} ${peakShare}, under ${pct(percent)}: no change needed`, hosts, hosts),
  ];
}
