// A range's state (an hour, or a quarter hour) computed in Node from its raw rows as PostgreSQL's binary COPY
// sends them (range-state.ts reads them): the figures the range statement of state-sql.ts computes in SQL, to
// the last digit — per series and metric the count, the exact numeric sums of value::numeric and of its square
// with their display scales (float8-numeric.ts), min, max and the sketch bins (shared/sketch/mapping.ts, the
// SQL mapping's twin). Like that statement, values are first added per base group — everything that decides an
// event's series: event_type, source and the dimension arrays — and each group is fanned out to its series
// once at the end, not each value to every series.
// Rows the statement would treat in ways not mirrored here (a NULL array element, a multi-dimensional array,
// a value that is not finite) make the accumulator `unusual`: the caller then runs the SQL statement instead.
// So does a range of more than MAX_BASE_GROUPS base groups (dimensions of high cardinality, e.g. a user id):
// its state would not fit the function's memory, and PostgreSQL's executor spills to disk where Node cannot.
import { FLAT_ARRAY_HEADER, flatArrayCount } from '../db/binary-copy.ts';
import { BinCounts, sketchBin } from '../sketch/index.ts';
import { Float8Sums } from './float8-numeric.ts';

/**
 * The columns a range reads, in the order of the COPY's fields: the first four decide the base group and, with
 * metric_names, lie side by side in a tuple, so their bytes are a row's key (slotsOf).
 */
export const RANGE_COLUMNS =
  'event_type, source, dimension_names, dimension_values, metric_names, metric_values';
export const RANGE_FIELD_COUNT = 6;

/**
 * Where a tuple's fields are, by field number: a range's COPY (RANGE_COLUMNS) or a raw_events row as ingest
 * writes it (RAW_COLUMNS of shared/ingest/raw-sql.ts: ts and idempotency_key, then RANGE_COLUMNS, then data),
 * whose batches are added up for their partials. In both the first five of RANGE_COLUMNS lie side by side.
 */
export interface TupleLayout {
  eventType: number;
  source: number;
  dimensionNames: number;
  dimensionValues: number;
  metricNames: number;
  metricValues: number;
}
export const RANGE_LAYOUT: TupleLayout = {
  eventType: 0,
  source: 1,
  dimensionNames: 2,
  dimensionValues: 3,
  metricNames: 4,
  metricValues: 5,
};
export const RAW_LAYOUT: TupleLayout = {
  eventType: 2,
  source: 3,
  dimensionNames: 4,
  dimensionValues: 5,
  metricNames: 6,
  metricValues: 7,
};

/**
 * Base groups a range may hold. A group of five metrics costs ~4 KiB with its states, and three windows run at
 * once in a function of 448 MiB: 30,000 rows of distinct user ids in an hour (30,000 groups, 150,000 series)
 * peaked at ~900 MiB without this bound.
 */
export const MAX_BASE_GROUPS = 10_000;

/** One (base group or series, metric): the exact figures a state row holds, without the bins. */
export class MetricFigures {
  count = 0;
  readonly sums = new Float8Sums();
  min = Infinity;
  max = -Infinity;

  /** Adds another's figures; ties go to the other, the later, as add() does. */
  mergeFigures(other: MetricFigures): void {
    this.count += other.count;
    this.sums.merge(other.sums);
    if (other.min <= this.min) this.min = other.min;
    if (other.max >= this.max) this.max = other.max;
  }
}

/** The figures and the bins. */
export class MetricState extends MetricFigures {
  readonly bins = new BinCounts();

  add(value: number): void {
    this.count += 1;
    this.sums.add(value);
    // ties go to the later value, as PostgreSQL's float8smaller/float8larger do: which of 0 and -0 is kept
    if (value <= this.min) this.min = value;
    if (value >= this.max) this.max = value;
    this.bins.add(sketchBin(value));
  }

  merge(other: MetricState): void {
    this.mergeFigures(other);
    this.bins.merge(other.bins);
  }
}

interface BaseGroup {
  eventType: string;
  /** The (dimension, dimension_value) of every series its rows count in: seriesOf() in state-sql.ts. */
  series: [string, string][];
  /** By metric name. */
  states: Map<string, MetricState>;
}

/** A base group with one metric_names array: the group's state of each position, made on first use. */
interface Slots {
  /** The bytes the slots were found by (slotsOf), and the next slots whose bytes hash the same. */
  key: Buffer;
  next: Slots | undefined;
  group: BaseGroup;
  names: string[];
  states: (MetricState | undefined)[];
}

/** A 32-bit hash of b[start, end), four bytes a step. */
function hashBytes(b: Buffer, start: number, end: number): number {
  let h = end - start;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const word =
      (b[i] as number) |
      ((b[i + 1] as number) << 8) |
      ((b[i + 2] as number) << 16) |
      ((b[i + 3] as number) << 24);
    h = Math.imul(h ^ word, 0x9e3779b1);
    h ^= h >>> 15;
  }
  for (; i < end; i++) h = Math.imul(h ^ (b[i] as number), 0x9e3779b1);
  return h;
}

/** A series and metric of the range with its state (partials are written from these). */
export interface SeriesMetricState {
  eventType: string;
  metric: string;
  dimension: string;
  dimensionValue: string;
  state: MetricState;
}

/** A series and metric of the range with the states of the base groups that count in it. */
export interface SeriesParts {
  eventType: string;
  metric: string;
  dimension: string;
  dimensionValue: string;
  states: MetricState[];
}

/** One series and metric of the range, as range-state.ts writes it. */
export interface SeriesState {
  eventType: string;
  metric: string;
  dimension: string;
  dimensionValue: string;
  count: number;
  /** numeric text, with the display scale of PostgreSQL's sum */
  sum: string;
  sumSquares: string;
  min: number;
  max: number;
  /** Bins in the order of sqlBinArrays. */
  signs: number[];
  keys: number[];
  counts: number[];
}

/** A text[] field's elements; undefined for an array not mirrored here (flatArrayCount). */
function textArray(b: Buffer, at: number): string[] | undefined {
  const count = flatArrayCount(b, at);
  if (count === undefined) return undefined;
  const out = new Array<string>(count);
  let next = at + FLAT_ARRAY_HEADER;
  for (let k = 0; k < count; k++) {
    const n = b.readInt32BE(next);
    out[k] = b.toString('utf8', next + 4, next + 4 + n);
    next += 4 + n;
  }
  return out;
}

/** seriesOf(): the total, the source, and each dimension pair (padded by unnest: pairs up to the shorter). */
function seriesOfGroup(source: string, names: string[], values: string[]): [string, string][] {
  const series: [string, string][] = [
    ['all', '*'],
    ['source', source],
  ];
  const pairs = Math.min(names.length, values.length);
  for (let i = 0; i < pairs; i++) {
    const name = names[i] as string;
    if (name !== 'all' && name !== 'source') series.push([name, values[i] as string]);
  }
  return series;
}

export class RangeAccumulator {
  /** Raw rows read (the statement's rows_in). */
  rows = 0;
  /** Set when a row holds something only the SQL statement handles (see the file's comment). */
  unusual = false;
  private readonly groups = new Map<string, BaseGroup>();
  /** By hashBytes of their key; keys of one hash are chained (Slots.next). */
  private readonly slots = new Map<number, Slots>();
  /** The field numbers of `layout`, as offsets into a tuple's [start, length] pairs. */
  private readonly at: Record<keyof TupleLayout, number>;

  constructor(layout: TupleLayout = RANGE_LAYOUT) {
    this.at = {
      eventType: 2 * layout.eventType,
      source: 2 * layout.source,
      dimensionNames: 2 * layout.dimensionNames,
      dimensionValues: 2 * layout.dimensionValues,
      metricNames: 2 * layout.metricNames,
      metricValues: 2 * layout.metricValues,
    };
  }

  /** One COPY tuple of the layout's (fields as [start, length] pairs, as BinaryCopyDecoder hands them). */
  add(b: Buffer, f: Int32Array): void {
    this.rows += 1;
    if (this.unusual) return;
    const slots = this.slotsOf(b, f);
    const valuesAt = f[this.at.metricValues]!;
    const values = flatArrayCount(b, valuesAt);
    if (slots === undefined || values === undefined) {
      this.leaveToSql();
      return;
    }
    const { group, names, states } = slots;
    const count = Math.min(names.length, values);
    let at = valuesAt + FLAT_ARRAY_HEADER + 4; // past the element's length, always 8 without NULLs
    for (let i = 0; i < count; i++, at += 12) {
      const value = b.readDoubleBE(at);
      if (!Number.isFinite(value)) {
        this.leaveToSql();
        return;
      }
      let state = states[i];
      if (state === undefined) state = states[i] = stateOf(group, names[i]!);
      state.add(value);
    }
  }

  /** Marks the range unusual and lets go of what was added: the rest of the COPY is only counted. */
  private leaveToSql(): void {
    this.unusual = true;
    this.groups.clear();
    this.slots.clear();
  }

  /**
   * The base group and metric states of a row, found by the bytes of its group's four fields and metric_names
   * (side by side in the tuple, lengths included): a hash of them and one comparison per row. A string of the
   * bytes as the key of a Map cost about a third more (~0.35 µs a row of the 1M benchmark's hours against
   * ~0.27: a copy, V8's hash of it, and garbage).
   */
  private slotsOf(b: Buffer, f: Int32Array): Slots | undefined {
    const at = this.at;
    const start = f[at.eventType]! - 4;
    const end = f[at.metricNames]! + f[at.metricNames + 1]!;
    const hash = hashBytes(b, start, end);
    const first = this.slots.get(hash);
    for (let slots = first; slots !== undefined; slots = slots.next) {
      if (slots.key.length === end - start && b.compare(slots.key, 0, slots.key.length, start, end) === 0) {
        return slots;
      }
    }
    const group = this.groupOf(b, f);
    const names = textArray(b, f[at.metricNames]!);
    if (group === undefined || names === undefined) return undefined;
    const slots: Slots = { key: Buffer.from(b.subarray(start, end)), next: first, group, names, states: [] };
    this.slots.set(hash, slots);
    return slots;
  }

  private groupOf(b: Buffer, f: Int32Array): BaseGroup | undefined {
    const at = this.at;
    const dimensions = f[at.dimensionNames]!;
    const key = b.toString(
      'latin1',
      f[at.eventType]! - 4,
      f[at.dimensionValues]! + f[at.dimensionValues + 1]!,
    );
    let group = this.groups.get(key);
    if (group !== undefined) return group;
    if (this.groups.size >= MAX_BASE_GROUPS) return undefined;
    const names = textArray(b, dimensions);
    const values = textArray(b, f[at.dimensionValues]!);
    if (names === undefined || values === undefined) return undefined;
    const source = b.toString('utf8', f[at.source]!, f[at.source]! + f[at.source + 1]!);
    group = {
      eventType: b.toString('utf8', f[at.eventType]!, f[at.eventType]! + f[at.eventType + 1]!),
      series: seriesOfGroup(source, names, values),
      states: new Map(),
    };
    this.groups.set(key, group);
    return group;
  }

  /** Every (series, metric) of the range as range-state.ts writes it. */
  *series(): Generator<SeriesState> {
    for (const { eventType, metric, dimension, dimensionValue, state } of this.seriesStates()) {
      yield {
        eventType,
        metric,
        dimension,
        dimensionValue,
        count: state.count,
        sum: state.sums.sum.toString(),
        sumSquares: state.sums.squares.toString(),
        min: state.min,
        max: state.max,
        ...state.bins.toArrays(),
      };
    }
  }

  /** Every (series, metric) of the range: each base group's states added into the series it counts in. */
  *seriesStates(): Generator<SeriesMetricState> {
    for (const { eventType, metric, dimension, dimensionValue, states } of this.seriesParts()) {
      let state = states[0]!;
      if (states.length > 1) {
        state = new MetricState();
        for (const one of states) state.merge(one);
      }
      yield { eventType, metric, dimension, dimensionValue, state };
    }
  }

  /** Every (series, metric) of the range with the states of the base groups counting in it, in their order. */
  seriesParts(): Iterable<SeriesParts> {
    const bySeries = new Map<string, SeriesParts>();
    for (const group of this.groups.values()) {
      for (const [metric, state] of group.states) {
        for (const [d, v] of group.series) {
          // NUL cannot occur in stored text, so it separates the parts unambiguously
          const key = `${group.eventType}\u0000${metric}\u0000${d}\u0000${v}`;
          const entry = bySeries.get(key);
          if (entry === undefined) {
            bySeries.set(key, {
              eventType: group.eventType,
              metric,
              dimension: d,
              dimensionValue: v,
              states: [state],
            });
          } else entry.states.push(state);
        }
      }
    }
    return bySeries.values();
  }
}

function stateOf(group: BaseGroup, metric: string): MetricState {
  let state = group.states.get(metric);
  if (state === undefined) group.states.set(metric, (state = new MetricState()));
  return state;
}
