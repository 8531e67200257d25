// The figures that say two copies of a raw day hold the same events: rows, first and last timestamp, rows
// per event type, and per (event type, metric) the count, sum, min and max. Computed three times — from
// the rows as they are exported (the manifest), from the Parquet files read back, and by PostgreSQL from
// the live partition just before it is dropped — and compared.
//
// Counts, timestamps, min and max must be equal. Sums of doubles depend on the order of addition, so they
// may differ by the rounding of that many additions: at most n·2⁻⁵³·Σ|v| each way (PostgreSQL adds in
// scan order; here the sum is compensated, i.e. nearly exact). Any real difference in the data is far
// larger, unless it hides below the last digits of a sum *and* keeps every count, min and max.

const UNIT_ROUNDOFF = 2 ** -53;

export interface MetricStats {
  count: number;
  sum: number;
  /** Σ|v|, which bounds the rounding error of the sum. */
  absSum: number;
  min: number;
  max: number;
}

export interface TypeStats {
  rows: number;
  metrics: Record<string, MetricStats>;
}

export interface RawStats {
  rows: number;
  /** Epoch microseconds; null for no rows. */
  minTs: number | null;
  maxTs: number | null;
  types: Record<string, TypeStats>;
}

export function emptyRawStats(): RawStats {
  return { rows: 0, minTs: null, maxTs: null, types: {} };
}

/** Accumulates RawStats one value at a time, with compensated (Neumaier) sums. */
export class RawStatsBuilder {
  readonly #types = new Map<string, { rows: number; metrics: Map<string, MetricAccumulator> }>();
  #rows = 0;
  #minTs = Infinity;
  #maxTs = -Infinity;

  /** Counts one row of `eventType` at `ts` (epoch µs); returns its per-type slot for addMetric. */
  row(eventType: string, ts: number): Map<string, MetricAccumulator> {
    this.#rows += 1;
    if (ts < this.#minTs) this.#minTs = ts;
    if (ts > this.#maxTs) this.#maxTs = ts;
    let type = this.#types.get(eventType);
    if (type === undefined) this.#types.set(eventType, (type = { rows: 0, metrics: new Map() }));
    type.rows += 1;
    return type.metrics;
  }

  static metric(metrics: Map<string, MetricAccumulator>, name: string, value: number): void {
    let m = metrics.get(name);
    if (m === undefined) metrics.set(name, (m = new MetricAccumulator()));
    m.add(value);
  }

  build(): RawStats {
    const types: Record<string, TypeStats> = {};
    for (const [name, type] of [...this.#types.entries()].sort(byKey)) {
      const metrics: Record<string, MetricStats> = {};
      for (const [metric, m] of [...type.metrics.entries()].sort(byKey)) metrics[metric] = m.stats();
      types[name] = { rows: type.rows, metrics };
    }
    return {
      rows: this.#rows,
      minTs: this.#rows === 0 ? null : this.#minTs,
      maxTs: this.#rows === 0 ? null : this.#maxTs,
      types,
    };
  }
}

export class MetricAccumulator {
  count = 0;
  #sum = 0;
  #compensation = 0;
  absSum = 0;
  min = Infinity;
  max = -Infinity;

  add(value: number): void {
    this.count += 1;
    const t = this.#sum + value;
    this.#compensation +=
      Math.abs(this.#sum) >= Math.abs(value) ? this.#sum - t + value : value - t + this.#sum;
    this.#sum = t;
    this.absSum += Math.abs(value);
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  stats(): MetricStats {
    return {
      count: this.count,
      sum: this.#sum + this.#compensation,
      absSum: this.absSum,
      min: this.min,
      max: this.max,
    };
  }
}

function byKey(a: [string, unknown], b: [string, unknown]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

/** Merges the stats of several files of one day. */
export function mergeRawStats(parts: readonly RawStats[]): RawStats {
  const builder = new Map<string, { rows: number; metrics: Map<string, MetricStats> }>();
  let rows = 0;
  let minTs: number | null = null;
  let maxTs: number | null = null;
  for (const part of parts) {
    rows += part.rows;
    if (part.minTs !== null) minTs = minTs === null ? part.minTs : Math.min(minTs, part.minTs);
    if (part.maxTs !== null) maxTs = maxTs === null ? part.maxTs : Math.max(maxTs, part.maxTs);
    for (const [name, type] of Object.entries(part.types)) {
      let into = builder.get(name);
      if (into === undefined) builder.set(name, (into = { rows: 0, metrics: new Map() }));
      into.rows += type.rows;
      for (const [metric, m] of Object.entries(type.metrics)) {
        const prev = into.metrics.get(metric);
        into.metrics.set(
          metric,
          prev === undefined
            ? { ...m }
            : {
                count: prev.count + m.count,
                sum: prev.sum + m.sum,
                absSum: prev.absSum + m.absSum,
                min: Math.min(prev.min, m.min),
                max: Math.max(prev.max, m.max),
              },
        );
      }
    }
  }
  const types: Record<string, TypeStats> = {};
  for (const [name, type] of [...builder.entries()].sort(byKey)) {
    types[name] = { rows: type.rows, metrics: Object.fromEntries([...type.metrics.entries()].sort(byKey)) };
  }
  return { rows, minTs, maxTs, types };
}

/** The ways `actual` differs from `expected`, each a sentence; [] when they agree. */
export function rawStatsDifferences(expected: RawStats, actual: RawStats, what: string): string[] {
  const out: string[] = [];
  if (expected.rows !== actual.rows) out.push(`${what} has ${actual.rows} rows, expected ${expected.rows}`);
  if (expected.minTs !== actual.minTs || expected.maxTs !== actual.maxTs) {
    out.push(
      `${what} spans ${isoMicros(actual.minTs)}..${isoMicros(actual.maxTs)}, expected ` +
        `${isoMicros(expected.minTs)}..${isoMicros(expected.maxTs)}`,
    );
  }
  const names = new Set([...Object.keys(expected.types), ...Object.keys(actual.types)]);
  for (const name of [...names].sort()) {
    const e = expected.types[name];
    const a = actual.types[name];
    if (e?.rows !== a?.rows) {
      out.push(`${what} has ${a?.rows ?? 0} rows of event type "${name}", expected ${e?.rows ?? 0}`);
      continue;
    }
    const metrics = new Set([...Object.keys(e?.metrics ?? {}), ...Object.keys(a?.metrics ?? {})]);
    for (const metric of [...metrics].sort()) {
      const em = e?.metrics[metric];
      const am = a?.metrics[metric];
      const label = `${what}: "${name}"."${metric}"`;
      if (em === undefined || am === undefined || em.count !== am.count) {
        out.push(`${label} has ${am?.count ?? 0} values, expected ${em?.count ?? 0}`);
      } else if (em.min !== am.min || em.max !== am.max) {
        out.push(`${label} ranges ${am.min}..${am.max}, expected ${em.min}..${em.max}`);
      } else if (!sumsAgree(em, am)) {
        out.push(`${label} sums to ${am.sum}, expected ${em.sum}`);
      }
    }
  }
  return out;
}

function sumsAgree(a: MetricStats, b: MetricStats): boolean {
  const bound = 2 * a.count * UNIT_ROUNDOFF * Math.max(a.absSum, b.absSum);
  return Math.abs(a.sum - b.sum) <= bound;
}

/** Epoch microseconds as ISO 8601 with six decimals, e.g. 2026-10-01T00:00:00.123456Z. */
export function isoMicros(micros: number | null): string {
  if (micros === null) return 'nothing';
  const ms = Math.floor(micros / 1000);
  const rest = String(micros - ms * 1000).padStart(3, '0');
  return `${new Date(ms).toISOString().slice(0, 23)}${rest}Z`;
}

/** The inverse of isoMicros. */
export function microsOfIso(iso: string): number {
  const m = /^(.*\.\d{3})(\d{3})Z$/.exec(iso);
  if (!m) throw new RangeError(`"${iso}" is not a timestamp with microseconds`);
  return Date.parse(`${m[1]}Z`) * 1000 + Number(m[2]);
}
