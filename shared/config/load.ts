import { isBatchError } from '../errors/index.ts';
import type { SettingKey } from './schema.ts';
import { BatchProcessingConfig } from './schema.ts';
import { secretKeys } from './keys.ts';
import { configInvalid, issueLine } from './problems.ts';
import type { CollectedSources, RawSetting } from './sources.ts';
import { collectSources, DEFAULT_SECRETS_DIR } from './sources.ts';

export interface LoadConfigOptions {
  /** Environment to read; default process.env. CONFIG_FILE and SECRETS_DIR are read from it too. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Folder of secret files; default env SECRETS_DIR, else /var/openfaas/secrets. */
  secretsDir?: string;
  /** YAML file; default env CONFIG_FILE; null = no file even if CONFIG_FILE is set. */
  file?: string | null;
}

/**
 * Resolves the configuration once: defaults → YAML file → environment → secret files, validated against
 * the schema. Returns a deeply frozen object whose secrets are non-enumerable. Throws one BatchError
 * CONFIG_INVALID listing every bad key.
 */
export function loadConfig(options: LoadConfigOptions = {}): BatchProcessingConfig {
  const { values, problems } = sources(options);
  return validate(toInput(values), values, problems);
}

/**
 * The settings a source names (the environment, the YAML file or a secret file), as against those left
 * at their default — for a caller that supplies a default of its own, e.g. the runtime's archive folder
 * beside its `--data-dir` database. Nothing is validated.
 */
export function configuredSettings(options: LoadConfigOptions = {}): ReadonlySet<SettingKey> {
  return new Set(sources(options).values.keys());
}

function sources(options: LoadConfigOptions): CollectedSources {
  const env = options.env ?? process.env;
  const file = options.file === null ? undefined : (options.file ?? nonEmpty(env.CONFIG_FILE));
  const secretsDir = options.secretsDir ?? nonEmpty(env.SECRETS_DIR) ?? DEFAULT_SECRETS_DIR;
  return collectSources({ env, file, secretsDir });
}

/**
 * Validates an already structured object (camelCase keys as in the schema; values typed or as strings),
 * e.g. a test's `parseConfig({ database: { url } })`. Same result and errors as loadConfig.
 */
export function parseConfig(input: unknown): BatchProcessingConfig {
  return validate(input, new Map(), []);
}

/** For entry points: loadConfig, or print the error to stderr and exit 1 before any work starts. */
export function loadConfigOrExit(options: LoadConfigOptions = {}): BatchProcessingConfig {
  try {
    return loadConfig(options);
  } catch (error) {
    const text = isBatchError(error, 'CONFIG_INVALID')
      ? error.message
      : `Cannot load the configuration: ${String(error)}`;
    process.stderr.write(`${text}\n`);
    return process.exit(1);
  }
}

function validate(
  input: unknown,
  values: ReadonlyMap<SettingKey, RawSetting>,
  problems: string[],
): BatchProcessingConfig {
  const result = BatchProcessingConfig.safeParse(input);
  const lines = [
    ...problems,
    ...(result.success ? [] : result.error.issues.map((i) => issueLine(i, values))),
  ];
  if (lines.length > 0 || !result.success) throw configInvalid(lines);
  return seal(structuredClone(result.data));
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function toInput(values: ReadonlyMap<SettingKey, RawSetting>): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [key, { value }] of values) {
    const path = key.split('.');
    let node = input;
    for (const part of path.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1] ?? ''] = value;
  }
  return input;
}

/** Makes secrets non-enumerable (absent from JSON.stringify, inspect, spread, logs) and freezes deeply. */
function seal(config: BatchProcessingConfig): BatchProcessingConfig {
  for (const key of secretKeys) {
    const path = key.split('.');
    const name = path.pop() ?? '';
    const parent = path.reduce<Record<string, unknown>>(
      (node, part) => node[part] as Record<string, unknown>,
      config,
    );
    Object.defineProperty(parent, name, {
      value: parent[name],
      enumerable: false,
      writable: false,
      configurable: false,
    });
  }
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const name of Object.getOwnPropertyNames(value))
      deepFreeze((value as Record<string, unknown>)[name]);
  }
  return value;
}
