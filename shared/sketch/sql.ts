// SQL fragments that compute the sketch mapping inside PostgreSQL exactly as ./mapping.ts does in Node.
//
// Contract for every builder:
// - Arguments are SQL expressions (code, never user data). Value expressions are cast to float8 and are
//   repeated several times in the output, so pass a column or a LATERAL alias, not an expensive expression.
// - Inputs must be finite: ln() of NaN/±Infinity makes the ::int cast fail ("integer out of range"). The event
//   normaliser already rejects non-finite numbers. NULL in gives NULL out.
// - Constants are float8 literals printed with the shortest decimal that round-trips (String(x)), so SQL uses
//   the very float8 values the TypeScript code uses; only IEEE-754 multiplication, subtraction, division,
//   round/ceil and comparisons decide a key, and those are exact-same in both engines (see mapping.ts).
import {
  KEY_GUARD,
  LN_GAMMA,
  MIN_INDEXABLE,
  NEGATIVE_POWERS,
  POSITIVE_POWERS,
  REPRESENTATIVE_FACTOR,
} from './mapping.ts';

/** A float8 literal holding exactly the float8 `x`. */
export function sqlFloat8(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`cannot print ${String(x)} as a float8 literal`);
  return `'${String(x)}'::float8`;
}

const LN_GAMMA_SQL = sqlFloat8(LN_GAMMA);
const MIN_INDEXABLE_SQL = sqlFloat8(MIN_INDEXABLE);
const KEY_GUARD_SQL = sqlFloat8(KEY_GUARD);
const FACTOR_SQL = sqlFloat8(REPRESENTATIVE_FACTOR);

function powerProduct(bitsExpr: string, table: readonly number[]): string {
  const factors = table.map(
    (power, i) => `CASE WHEN (${bitsExpr} & ${2 ** i}) <> 0 THEN ${sqlFloat8(power)} ELSE 1::float8 END`,
  );
  return ['1::float8', ...factors].join(' * ');
}

/** boundary(k) ≈ γ^k as float8, bit-identical to keyBoundary() in mapping.ts. `keyExpr` is an int expression. */
export function sqlKeyBoundary(keyExpr: string): string {
  const k = `(${keyExpr})`;
  return (
    `(CASE WHEN ${k} < 0 THEN ${powerProduct(`(-${k})`, NEGATIVE_POWERS)} ` +
    `ELSE ${powerProduct(k, POSITIVE_POWERS)} END)`
  );
}

/** smallint sign of a value: 1 for v >= 1e-9, -1 for v <= -1e-9, else 0 (the zero bin). */
export function sqlSign(valueExpr: string): string {
  const v = `(${valueExpr})::float8`;
  return (
    `(CASE WHEN ${v} >= ${MIN_INDEXABLE_SQL} THEN 1 ` +
    `WHEN ${v} <= -${MIN_INDEXABLE_SQL} THEN -1 ELSE 0 END)::smallint`
  );
}

/**
 * int key of a value, equal to sketchKey(v).key for the same float8:
 *   CASE WHEN abs(v) < 1e-9 THEN 0
 *        WHEN abs(r - round(r)) > 1e-7 THEN ceil(r)::int          -- r = ln(abs(v)) / ln γ
 *        WHEN abs(v) <= boundary(round(r)) THEN round(r)::int     -- on a boundary: exact comparison
 *        ELSE round(r)::int + 1 END
 */
export function sqlKey(valueExpr: string): string {
  const a = `abs((${valueExpr})::float8)`;
  const r = `(ln(${a}) / ${LN_GAMMA_SQL})`;
  const n = `round(${r})::int`;
  return (
    `(CASE WHEN ${a} < ${MIN_INDEXABLE_SQL} THEN 0 ` +
    `WHEN abs(${r} - round(${r})) > ${KEY_GUARD_SQL} THEN ceil(${r})::int ` +
    `WHEN ${a} <= ${sqlKeyBoundary(n)} THEN ${n} ` +
    `ELSE ${n} + 1 END)`
  );
}

/**
 * float8 representative value of a bin, equal to keyValue(sign, key):
 * sign · (boundary(key − 1) · 2γ/(γ + 1)); 0 for the zero bin.
 */
export function sqlKeyValue(signExpr: string, keyExpr: string): string {
  return `((${signExpr})::float8 * (${sqlKeyBoundary(`(${keyExpr}) - 1`)} * ${FACTOR_SQL}))`;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function identifier(name: string, what: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new TypeError(
      `${what} must be a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*); got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

export interface QuantileQueryOptions {
  /**
   * A relation: table, view, CTE name, or `(SELECT …) AS alias`, with columns
   * `<groupBy…>, sign smallint, key int, count bigint`, as produced by sqlSign/sqlKey. Several rows may share a
   * (group, sign, key): they are summed, which is the sketch merge, so unmerged partial states can be passed.
   * Group columns must be NOT NULL.
   */
  bins: string;
  /** Group (series) columns present in `bins`; omit or [] for a single series. */
  groupBy?: readonly string[];
  /**
   * Optional relation with `<groupBy…>` plus exact min and max columns (one row per group): estimates are
   * clamped to [min, max] as QuantileSketch.quantile() does. Without it estimates are not clamped.
   */
  bounds?: { relation: string; minColumn?: string; maxColumn?: string };
  /** Output column name → quantile. Default { p50: 0.5, p95: 0.95, p99: 0.99 }. */
  quantiles?: Readonly<Record<string, number>>;
}

export const DEFAULT_QUANTILES: Readonly<Record<string, number>> = Object.freeze({
  p50: 0.5,
  p95: 0.95,
  p99: 0.99,
});

function checkedQuantiles(
  quantiles: Readonly<Record<string, number>> = DEFAULT_QUANTILES,
): { name: string; q: number }[] {
  const checked = Object.entries(quantiles).map(([name, q]) => {
    if (typeof q !== 'number' || !(q >= 0 && q <= 1)) {
      throw new RangeError(`quantile ${name} must be between 0 and 1; got ${String(q)}`);
    }
    return { name: identifier(name, 'quantile column'), q };
  });
  if (checked.length === 0) throw new RangeError('a quantile query needs at least one quantile');
  return checked;
}

/**
 * A query returning one row per group: `<groupBy…>, count bigint, <quantile columns> float8`, each quantile the
 * same estimate QuantileSketch.quantile(q) gives for the merged bins: rank = q·(n − 1) in float8; the
 * representatives of the bins (in value order: sign, then sign·key) holding the sorted values at floor(rank)
 * and floor(rank) + 1 — the first bins whose running count exceeds each index; interpolated as
 * percentile_cont does, then clamped to bounds.
 */
export function sqlQuantileQuery(options: QuantileQueryOptions): string {
  const groups = (options.groupBy ?? []).map((g) => identifier(g, 'groupBy column'));
  const quantiles = checkedQuantiles(options.quantiles);
  const g = (prefix: string) => groups.map((c) => `${prefix}${c}, `).join('');
  const partition = groups.length > 0 ? `PARTITION BY ${groups.join(', ')} ` : '';
  const groupBy = groups.length > 0 ? `GROUP BY ${groups.join(', ')}` : '';
  const representative = sqlKeyValue('c.sign', 'c.key');
  const below = (q: number) => `floor(${sqlFloat8(q)} * (c.n - 1)::float8)`;
  const ends = quantiles.map(
    ({ name, q }) =>
      `min(${representative}) FILTER (WHERE c.cum::float8 > ${below(q)}) AS hxp_lo_${name},\n` +
      `  min(${representative}) FILTER (WHERE c.cum::float8 > ${below(q)} + 1) AS hxp_hi_${name}`,
  );
  // Same expression and order as QuantileSketch's interpolate(): (1 − fraction) · lo + fraction · hi; past
  // the last value (rank = n − 1) there is no upper neighbour and hi falls back to lo.
  const estimates = quantiles.map(({ name, q }) => {
    const rank = `(${sqlFloat8(q)} * (e.n - 1)::float8)`;
    return `(1 - (${rank} - floor(${rank}))) * e.hxp_lo_${name} + (${rank} - floor(${rank})) * coalesce(e.hxp_hi_${name}, e.hxp_lo_${name}) AS ${name}`;
  });
  const core =
    `WITH hxp_merged AS (\n` +
    `  SELECT ${g('b.')}b.sign, b.key, sum(b.count) AS count\n` +
    `  FROM ${options.bins} AS b\n` +
    `  GROUP BY ${g('b.')}b.sign, b.key\n` +
    `), hxp_cumulative AS (\n` +
    `  SELECT ${g('m.')}m.sign, m.key,\n` +
    `    sum(m.count) OVER (${partition}ORDER BY m.sign, m.sign * m.key ROWS UNBOUNDED PRECEDING) AS cum,\n` +
    `    sum(m.count) OVER (${partition.trimEnd()}) AS n\n` +
    `  FROM hxp_merged AS m\n` +
    `), hxp_ends AS (\n` +
    `  SELECT ${g('c.')}max(c.n) AS n,\n  ${ends.join(',\n  ')}\n` +
    `  FROM hxp_cumulative AS c\n  ${groupBy}\n` +
    `)\n` +
    `SELECT ${g('e.')}e.n::bigint AS count,\n  ${estimates.join(',\n  ')}\n` +
    `FROM hxp_ends AS e`;
  if (!options.bounds) return core;
  const minColumn = identifier(options.bounds.minColumn ?? 'min', 'bounds.minColumn');
  const maxColumn = identifier(options.bounds.maxColumn ?? 'max', 'bounds.maxColumn');
  const join = groups.length > 0 ? `USING (${groups.join(', ')})` : 'ON true';
  const clamped = quantiles.map(
    ({ name }) => `greatest(bd.${minColumn}, least(bd.${maxColumn}, q.${name}))::float8 AS ${name}`,
  );
  return (
    `SELECT ${groups.map((c) => `${c}, `).join('')}q.count,\n  ${clamped.join(',\n  ')}\n` +
    `FROM (\n${core}\n) AS q\nLEFT JOIN ${options.bounds.relation} AS bd ${join}`
  );
}

/**
 * The bins of one group as three parallel arrays in value order (sign, then sign·key), the layout
 * aggregate_sketch_bins stores: `signs smallint[]`, `keys int[]`, `counts bigint[]`. An aggregate select list
 * over rows with one (sign, key) each; merge duplicates first (sum their counts).
 */
export function sqlBinArrays(signExpr: string, keyExpr: string, countExpr: string): string {
  const order = `ORDER BY ${signExpr}, ${signExpr} * ${keyExpr}`;
  return (
    `array_agg(${signExpr} ${order}) AS signs, array_agg(${keyExpr} ${order}) AS keys, ` +
    `array_agg(${countExpr} ${order}) AS counts`
  );
}

export interface SortedBinQuantileOptions {
  /** Array expressions (e.g. columns of the outer row) in the layout of sqlBinArrays: one entry per bin. */
  signs: string;
  keys: string;
  counts: string;
  /**
   * The sum of `counts` (e.g. summed where the arrays were built), so the running count needs no second pass
   * and each rank is computed once per group instead of once per bin. Default: summed here.
   */
  total?: string;
  /** Output column name → quantile. Default { p50: 0.5, p95: 0.95, p99: 0.99 }. */
  quantiles?: Readonly<Record<string, number>>;
}

/**
 * A scalar-row subquery for `CROSS JOIN LATERAL` over one group's sorted bin arrays (sqlBinArrays), returning
 * one row with the quantile columns: the same estimates as sqlQuantileQuery and QuantileSketch.quantile(q),
 * unclamped. Counts are summed in float8, exact below 2^53 (QuantileSketch holds counts to safe integers), so
 * ranks and comparisons are the same float8 values as there. The running count is taken over the array
 * positions (already value order, so nothing is sorted by text), the two neighbours of each rank are picked by
 * position, and the representative value is computed only for those picked bins.
 */
export function sqlSortedBinQuantiles(options: SortedBinQuantileOptions): string {
  const quantiles = checkedQuantiles(options.quantiles);
  const total = options.total ?? `(SELECT sum(x) FROM unnest(${options.counts}) AS x)`;
  // Per group, once: n and the 0-based index below each rank (floor(rank)), as float8 like the running count.
  const limits = quantiles.map(({ name, q }) => `floor(${sqlFloat8(q)} * (t0.n - 1)) AS below_${name}`);
  const picks = quantiles.map(
    ({ name }) =>
      `min(c.i) FILTER (WHERE c.cum > t.below_${name}) AS lo_${name}, ` +
      `min(c.i) FILTER (WHERE c.cum > t.below_${name} + 1) AS hi_${name}`,
  );
  // One instance of the (long) representative expression, applied to the picked positions in turn: written
  // out per pick it made the statement several times longer to parse and plan.
  const positions = quantiles.map(({ name }) => `e.lo_${name}, e.hi_${name}`).join(', ');
  const representative = sqlKeyValue(`(${options.signs})[p.j::int]`, `(${options.keys})[p.j::int]`);
  const value = (name: string, end: 'lo' | 'hi') =>
    `v.r[${2 * quantiles.findIndex((x) => x.name === name) + (end === 'lo' ? 1 : 2)}]`;
  // Same expression and order as sqlQuantileQuery (and QuantileSketch's interpolate()).
  const estimates = quantiles.map(({ name, q }) => {
    const rank = `(${sqlFloat8(q)} * (v.n - 1))`;
    return `(1 - (${rank} - floor(${rank}))) * ${value(name, 'lo')} + (${rank} - floor(${rank})) * coalesce(${value(name, 'hi')}, ${value(name, 'lo')}) AS ${name}`;
  });
  // OFFSET 0 keeps each level from being flattened into the next, which would repeat its expressions.
  return (
    `(SELECT ${estimates.join(',\n    ')}\n` +
    `  FROM (SELECT e.n,\n` +
    `      (SELECT array_agg(${representative} ORDER BY p.o)\n` +
    `       FROM unnest(ARRAY[${positions}]) WITH ORDINALITY AS p(j, o)) AS r\n` +
    `    FROM (SELECT max(t.n) AS n, ${picks.join(',\n        ')}\n` +
    `      FROM (SELECT n, ${limits.join(', ')} FROM (SELECT (${total})::float8 AS n) AS t0 OFFSET 0) AS t\n` +
    `      CROSS JOIN (SELECT u.i, sum(u.c::float8) OVER (ORDER BY u.i ROWS UNBOUNDED PRECEDING) AS cum\n` +
    `            FROM unnest(${options.counts}) WITH ORDINALITY AS u(c, i)) AS c) AS e\n` +
    `    OFFSET 0) AS v)`
  );
}
