// The metric names a PromQL expression reads, for checking alert rules and dashboard queries against the
// metric catalogue. Not a parser (promtool checks the syntax): it drops strings, label matchers, ranges and
// label lists, then keeps the identifiers that are not functions, keywords or numbers.
const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'inf',
  'nan',
]);

export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = m[0];
    const after = stripped.slice((m.index ?? 0) + word.length).trimStart();
    if (after.startsWith('(') || KEYWORDS.has(word.toLowerCase())) continue;
    if (/^\d/.test(stripped.slice((m.index ?? 1) - 1, m.index))) continue; // unit of a number: 5m, 1e3
    names.add(word);
  }
  return [...names].sort();
}

/** A metric selector of an expression: its name, the labels its matchers name, the range function over it. */
export interface PromqlSelector {
  name: string;
  matchers: string[];
  /** rate, irate or increase when the selector is their direct argument. */
  counterFunction?: string;
}

/** What an expression assumes of the metrics it reads: selectors, and labels it groups, joins or copies by. */
export interface PromqlUses {
  selectors: PromqlSelector[];
  /** Labels of by (…), on (…), ignoring (…), group_left (…), group_right (…): they must exist to mean anything. */
  groupingLabels: string[];
  /** Labels label_replace writes (they exist afterwards whatever the metric has). */
  writtenLabels: string[];
}

export function promqlUses(expr: string): PromqlUses {
  const names = new Set(promqlMetricNames(expr));
  const noStrings = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  const selectors: PromqlSelector[] = [];
  for (const m of expr.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*(\{[^}]*\})?/g)) {
    const name = m[1]!;
    if (!names.has(name)) continue;
    const before = expr.slice(0, m.index).replace(/\s+$/, '');
    const fn = /\b(rate|irate|increase)\s*\($/.exec(before)?.[1];
    const matchers = [...(m[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map(
      (x) => x[1]!,
    );
    selectors.push({ name, matchers, ...(fn ? { counterFunction: fn } : {}) });
  }
  const groupingLabels = [
    ...noStrings.matchAll(/\b(?:by|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g),
  ].flatMap((m) =>
    m[1]!
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean),
  );
  const writtenLabels = [...expr.matchAll(/label_replace\s*\([\s\S]*?,\s*"([^"]+)"/g)].map((m) => m[1]!);
  return { selectors, groupingLabels, writtenLabels };
}
