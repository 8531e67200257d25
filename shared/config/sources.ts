// Collects raw setting values from the sources, lowest precedence first: (schema defaults, applied later by
// the schema) → the optional YAML file → environment variables → secret files. Each value keeps its origin
// so an error can name the variable, YAML path or file it came from. Nothing is validated here except the
// shape of the YAML file (unknown keys are problems: typo protection).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { SettingKey } from './schema.ts';
import { settingKeys, settings } from './keys.ts';

export const DEFAULT_SECRETS_DIR = '/var/openfaas/secrets';

export type Origin =
  | { kind: 'env'; name: string }
  | { kind: 'yaml'; path: string; file: string }
  | { kind: 'secret'; file: string };

export interface RawSetting {
  value: unknown;
  origin: Origin;
}

export interface SourceOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** YAML file; undefined = none. */
  file?: string | undefined;
  secretsDir: string;
}

export interface CollectedSources {
  values: Map<SettingKey, RawSetting>;
  /** Problems that are not about one value (unreadable files, bad YAML, unknown YAML keys), as error lines. */
  problems: string[];
}

export function collectSources(options: SourceOptions): CollectedSources {
  const values = new Map<SettingKey, RawSetting>();
  const problems: string[] = [];
  if (options.file !== undefined) readYaml(options.file, values, problems);
  for (const key of settingKeys) {
    const value = options.env[settings[key].env];
    if (value !== undefined && value.trim() !== '')
      values.set(key, { value, origin: { kind: 'env', name: settings[key].env } });
  }
  readSecretFiles(options.secretsDir, values, problems);
  return { values, problems };
}

const keyByYamlPath = new Map(settingKeys.map((key) => [settings[key].yaml, key]));
const yamlSections = new Set(
  settingKeys.flatMap((key) =>
    settings[key].yaml
      .split('.')
      .slice(0, -1)
      .map((_, i, parts) => parts.slice(0, i + 1).join('.')),
  ),
);

/** How many alias nodes the configuration file may expand (yaml's own default, stated so it cannot drift). */
const MAX_YAML_ALIAS_COUNT = 100;

function readYaml(file: string, values: Map<SettingKey, RawSetting>, problems: string[]): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    problems.push(
      `CONFIG_FILE=${JSON.stringify(file)}: cannot read the configuration file (${errorCode(error)})`,
    );
    return;
  }
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    for (const e of document.errors)
      problems.push(`${file}: not valid YAML: ${e.message.split('\n')[0] ?? ''}`);
    return;
  }
  let root: unknown;
  try {
    root = document.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT });
  } catch (e) {
    // yaml refuses aliases that expand past maxAliasCount nodes (a "billion laughs" file) with a ReferenceError.
    problems.push(
      `${file}: YAML aliases expand too far (${(e as Error).message}); at most ${MAX_YAML_ALIAS_COUNT} ` +
        `alias expansions are accepted — write the values out instead of nesting aliases`,
    );
    return;
  }
  if (root === null || root === undefined) return; // an empty file sets nothing
  if (!isMapping(root)) {
    problems.push(`${file}: expected a YAML mapping at the top (batch_processing:, kafka:, database:, …)`);
    return;
  }
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const [name, value] of Object.entries(node)) {
      const path = prefix === '' ? name : `${prefix}.${name}`;
      const key = keyByYamlPath.get(path);
      if (key !== undefined) {
        if (value !== null && value !== undefined)
          values.set(key, { value, origin: { kind: 'yaml', path, file } });
      } else if (yamlSections.has(path)) {
        if (isMapping(value)) walk(value, path);
        else if (value !== null)
          problems.push(`${path} (${file}): expected a mapping of settings, got ${typeof value}`);
      } else {
        problems.push(`${path} (${file}): unknown key${suggestion(path)}`);
      }
    }
  };
  walk(root, '');
}

function readSecretFiles(dir: string, values: Map<SettingKey, RawSetting>, problems: string[]): void {
  for (const key of settingKeys) {
    const name = settings[key].secretFile;
    if (name === undefined) continue;
    const file = join(dir, name);
    let value: string;
    try {
      value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      const code = errorCode(error);
      if (code !== 'ENOENT' && code !== 'ENOTDIR')
        problems.push(`${file}: cannot read the secret file (${code})`);
      continue;
    }
    if (value.trim() !== '') values.set(key, { value, origin: { kind: 'secret', file } });
  }
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'unknown error';
}

/** "; did you mean …?" for the nearest known YAML path, when one is close. */
function suggestion(path: string): string {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(path.length / 6)) + 1;
  for (const candidate of [...keyByYamlPath.keys(), ...yamlSections]) {
    const distance = editDistance(path, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best === undefined ? '; see docs/configuration.md for the known keys' : `; did you mean ${best}?`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
