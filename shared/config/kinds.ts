// Value kinds of configuration settings: how a raw value (an environment string, a YAML scalar or list, a
// secret file's text) becomes a typed value, what the error says when it cannot, and how a value is
// written back in docs and examples. Every problem text names what is wrong and the expected form; the
// caller adds the offending value and an example.
import { CronExpressionParser } from 'cron-parser';
import { PriceListSchema, priceListProblems, type PriceEntry } from '../pricing/schema.ts';

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

export interface Kind<T> {
  /** Type and allowed values, as shown in docs/configuration.md. */
  readonly type: string;
  /** An example value in environment-variable form, used when a setting has no default. */
  readonly example: string;
  parse(raw: unknown): Parsed<T>;
  /** Renders a value in environment-variable form (docs defaults, examples). */
  format(value: T): string;
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(problem: string): Parsed<T> => ({ ok: false, problem });

/** A scalar as text: strings trimmed, finite numbers and booleans stringified, anything else undefined. */
function scalarText(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw.trim();
  if ((typeof raw === 'number' && Number.isFinite(raw)) || typeof raw === 'boolean') return String(raw);
  return undefined;
}

const TRUE = new Set(['true', '1', 'yes']);
const FALSE = new Set(['false', '0', 'no']);

export const bool: Kind<boolean> = {
  type: 'boolean (true/false, 1/0, yes/no)',
  example: 'true',
  parse(raw) {
    const text = scalarText(raw)?.toLowerCase();
    if (text !== undefined && TRUE.has(text)) return ok(true);
    if (text !== undefined && FALSE.has(text)) return ok(false);
    return bad('not a boolean (true/false, 1/0, yes/no)');
  },
  format: String,
};

export function int(min: number, max = Number.MAX_SAFE_INTEGER, noun = 'an integer'): Kind<number> {
  const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `${min}–${max}`;
  const expected = noun === 'an integer' ? `an integer ${range}` : `${noun}: an integer ${range}`;
  return {
    type: `integer ${range}`,
    example: String(Math.max(min, 1)),
    parse(raw) {
      const text = scalarText(raw);
      if (text === undefined || !/^[+-]?\d+$/.test(text)) return bad(`not ${expected}`);
      const value = Number(text);
      if (value < min || value > max) return bad(`out of range; expected ${expected}`);
      return ok(value);
    },
    format: String,
  };
}

export const port = int(1, 65535, 'a port number');

/** A decimal number in [min, max]. */
export function decimal(min: number, max: number): Kind<number> {
  const expected = `a number ${min}–${max}`;
  return {
    type: `number ${min}–${max}`,
    example: String(min),
    parse(raw) {
      const text = scalarText(raw);
      if (text === undefined || !/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(text)) return bad(`not ${expected}`);
      const value = Number(text);
      if (value < min || value > max) return bad(`out of range; expected ${expected}`);
      return ok(value);
    },
    format: String,
  };
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration; a bare number is in `unit`, the result is in `unit`. */
export function duration(unit: 's' | 'ms', min = 0, max = Number.MAX_SAFE_INTEGER): Kind<number> {
  const unitName = unit === 's' ? 'seconds' : 'milliseconds';
  const expected = `a number of ${unitName}, or a number with a unit ms/s/m/h/d such as 300, 300s, 5m, 1h`;
  return {
    type: `duration (${unitName}; 300, 300s, 5m, 1h)`,
    example: unit === 's' ? '300' : '30000',
    parse(raw) {
      const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i.exec(scalarText(raw) ?? '');
      if (!match) return bad(`not a duration (${expected})`);
      const ms = Number(match[1]) * (DURATION_UNITS_MS[(match[2] ?? unit).toLowerCase()] ?? 1);
      const value = unit === 's' ? ms / 1000 : Math.round(ms);
      if (value < min) return bad(`too short; expected at least ${min} ${unitName}`);
      if (value > max) return bad(`too long; expected at most ${max} ${unitName}`);
      return ok(value);
    },
    format: String,
  };
}

// prettier-ignore
const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  ki: 2 ** 10, kib: 2 ** 10, mi: 2 ** 20, mib: 2 ** 20, gi: 2 ** 30, gib: 2 ** 30, ti: 2 ** 40, tib: 2 ** 40,
};

/** A size in bytes: a bare number of bytes, SI units (KB, MB, GB) or IEC units (Ki/KiB, Mi/MiB, Gi/GiB). */
export const size: Kind<number> = {
  type: 'size in bytes (e.g. 65536, 64KiB, 512MiB, 3Gi, 3GB)',
  example: '3Gi',
  parse(raw) {
    const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(scalarText(raw) ?? '');
    const factor = match ? SIZE_UNITS[(match[2] ?? '').toLowerCase()] : undefined;
    if (!match || factor === undefined) {
      return bad('not a size (bytes, or a number with a unit such as 64KiB, 512MiB, 3Gi, 3GB)');
    }
    const value = Math.round(Number(match[1]) * factor);
    return value > 0 ? ok(value) : bad('not a positive size');
  },
  format(bytes) {
    for (const [suffix, factor] of [
      ['TiB', 2 ** 40],
      ['GiB', 2 ** 30],
      ['MiB', 2 ** 20],
      ['KiB', 2 ** 10],
    ] as const) {
      if (bytes % factor === 0) return `${bytes / factor}${suffix}`;
    }
    return String(bytes);
  },
};

export interface TextOptions {
  type?: string;
  example?: string;
  pattern?: RegExp;
  problem?: string;
  /** Keep surrounding whitespace (passwords, tokens); default: trim. */
  verbatim?: boolean;
}

export function text(options: TextOptions = {}): Kind<string> {
  const { pattern, problem = 'not a non-empty string' } = options;
  return {
    type: options.type ?? 'string',
    example: options.example ?? 'value',
    parse(raw) {
      const string = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw : '';
      const value = options.verbatim === true && string.trim() !== '' ? string : string.trim();
      return value !== '' && (!pattern || pattern.test(value)) ? ok(value) : bad(problem);
    },
    format: (value) => value,
  };
}

export function oneOf<const V extends string>(values: readonly V[]): Kind<V> {
  return {
    type: values.join(' \\| '),
    example: values[0] ?? '',
    parse(raw) {
      const value = scalarText(raw)?.toLowerCase();
      const found = values.find((v) => v === value);
      return found ? ok(found) : bad(`not one of ${values.join(', ')}`);
    },
    format: (value) => value,
  };
}

/** A list: a YAML sequence or a comma-separated string. Items are trimmed, empties dropped, duplicates removed. */
export function list<T>(item: Kind<T>): Kind<T[]> {
  return {
    type: `comma-separated list of ${item.type}`,
    example: item.example,
    parse(raw) {
      const items: unknown[] = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : [raw];
      const values: T[] = [];
      for (const entry of items) {
        if (typeof entry === 'string' && entry.trim() === '') continue;
        const parsed = item.parse(entry);
        if (!parsed.ok) return bad(`item ${JSON.stringify(entry)} is ${parsed.problem}`);
        if (!values.includes(parsed.value)) values.push(parsed.value);
      }
      return ok(values);
    },
    format: (values) => values.map((v) => item.format(v)).join(','),
  };
}

export function url(protocols: readonly string[], expected: string, example: string): Kind<string> {
  return {
    type: `URL (${protocols.map((p) => `${p}//`).join(', ')})`,
    example,
    parse(raw) {
      const value = scalarText(raw) ?? '';
      if (!URL.canParse(value) || !protocols.includes(new URL(value).protocol)) return bad(`not ${expected}`);
      return ok(value);
    },
    format: (value) => value,
  };
}

export const httpUrl = url(['http:', 'https:'], 'an http(s) URL (http://host:port)', 'http://127.0.0.1:9091');

export const hostPort = text({
  type: 'host:port',
  example: '127.0.0.1:9092',
  pattern: /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/,
  problem: 'not a host:port address (e.g. kafka-1:9092)',
});

const CRON_FORM = '5-field cron expression (minute hour day-of-month month day-of-week)';

/** A 5-field cron expression, as the OpenFaaS cron-connector and node-cron take it. */
export const cron: Kind<string> = {
  type: CRON_FORM,
  example: '0 * * * *',
  parse(raw) {
    const value = typeof raw === 'string' ? raw.trim().replace(/\s+/g, ' ') : '';
    if (value.split(' ').length !== 5) return bad(`not a ${CRON_FORM}`);
    try {
      CronExpressionParser.parse(value);
    } catch (error) {
      return bad(`not a valid ${CRON_FORM}: ${(error as Error).message}`);
    }
    return ok(value);
  },
  format: (value) => value,
};

/**
 * An IANA time zone name that this runtime's Intl knows, kept as the user spelled it: Node's ICU resolves
 * some current names to older links (Asia/Kolkata → Asia/Calcutta, Europe/Kyiv → Europe/Kiev), and reports
 * and answers should name the zone that was configured. Only the letter case is taken from Intl when that is
 * all that differs ("utc" → "UTC"); PostgreSQL knows both spellings of each link.
 */
export const timeZone: Kind<string> = {
  type: 'IANA time zone known to Intl (UTC, Europe/Berlin, …)',
  example: 'UTC',
  parse(raw) {
    const value = scalarText(raw) ?? '';
    try {
      if (value !== '') {
        const resolved = new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
        return ok(resolved.toLowerCase() === value.toLowerCase() ? resolved : value);
      }
    } catch {
      // fall through to the problem below
    }
    return bad('not a time zone known to Intl (an IANA name such as UTC, Europe/Berlin, America/New_York)');
  },
  format: (value) => value,
};

/** A decimal number in [min, max]; min 0 with `positive` excludes 0 itself. */
export function number(min: number, max = Number.MAX_VALUE, unit = '', positive = false): Kind<number> {
  const range = positive ? '> 0' : max === Number.MAX_VALUE ? `≥ ${min}` : `${min}–${max}`;
  return {
    type: `number ${range}${unit ? ` (${unit})` : ''}`,
    example: String(Math.max(min, 1)),
    parse(raw) {
      const text = scalarText(raw);
      const value = text === undefined || text === '' ? NaN : Number(text);
      if (!Number.isFinite(value)) return bad(`not a number (${range})`);
      if (value < min || value > max || (positive && value <= 0))
        return bad(`out of range; expected a number ${range}`);
      return ok(value);
    },
    format: String,
  };
}

declare const nameMapBrand: unique symbol;
/** What mapOf parses to; the brand (types only) tells the key paths a map is one setting, not a section. */
export type NameMap<K extends string, V> = Partial<Record<K, V>> & { readonly [nameMapBrand]: V };

/**
 * Values per name: `name=value,name=value` in the environment, a mapping in YAML. Names come from `names`;
 * names not given keep their value from `base` (the setting's default), so setting one does not drop the
 * others.
 */
export function mapOf<const K extends string, V>(
  names: readonly K[],
  value: Kind<V>,
  base: Partial<Record<K, V>>,
): Kind<NameMap<K, V>> {
  const format = (map: Partial<Record<K, V>>): string =>
    names
      .filter((n) => map[n] !== undefined)
      .map((n) => `${n}=${value.format(map[n] as V)}`)
      .join(',');
  return {
    type: `comma-separated name=value list (names: ${names.join(', ')}; value: ${value.type}); names not given keep their default`,
    example: `${names[0] ?? 'name'}=${value.example}`,
    parse(raw) {
      let entries: Array<[string, unknown]>;
      if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) entries = Object.entries(raw);
      else if (typeof raw === 'string') {
        entries = [];
        for (const item of raw.split(',')) {
          if (item.trim() === '') continue;
          const at = item.indexOf('=');
          if (at < 0) return bad(`item ${JSON.stringify(item.trim())} is not name=value`);
          entries.push([item.slice(0, at).trim(), item.slice(at + 1)]);
        }
      } else return bad('not a name=value list (or a YAML mapping)');
      const map: Partial<Record<K, V>> = { ...base };
      for (const [name, rawValue] of entries) {
        const key = names.find((n) => n === name.toLowerCase());
        if (!key) return bad(`"${name}" is not one of ${names.join(', ')}`);
        const parsed = value.parse(rawValue);
        if (!parsed.ok) return bad(`${key}: ${JSON.stringify(rawValue)} is ${parsed.problem}`);
        map[key] = parsed.value;
      }
      return ok(map as NameMap<K, V>);
    },
    format,
  };
}

/**
 * The model price table (shared/pricing): a YAML list of entries, or the same list as JSON text (the
 * environment variable). Every problem names the entry and field.
 */
export const priceList: Kind<PriceEntry[]> = {
  type: 'list of model prices: YAML list, or JSON in the environment (see docs/pricing.md)',
  example: '[{"model":"llama-3-70b","input_usd_per_1k":0.0009,"output_usd_per_1k":0.0009}]',
  parse(raw) {
    let value = raw;
    if (typeof raw === 'string') {
      try {
        value = JSON.parse(raw) as unknown;
      } catch (error) {
        return bad(`not a JSON list of prices (${(error as Error).message})`);
      }
    }
    const parsed = PriceListSchema.safeParse(value);
    if (parsed.success) return ok(parsed.data);
    return bad(priceListProblems(parsed.error, value).join('; '));
  },
  format: (entries) => (entries.length === 0 ? '' : JSON.stringify(entries)),
};
