// A loaded configuration written back as environment variables: the text each set, non-secret setting would
// have in its variable to give the same value. The local runtime expands stack.yml's ${VAR} with it, so a
// schedule, zone or topic set in the YAML file reaches stack.yml as it reaches the functions.
import type { BatchProcessingConfig, SettingKey } from './schema.ts';
import { leafSchemas } from './schema.ts';
import { settingKeys, settings } from './keys.ts';

function valueAt(config: BatchProcessingConfig, key: SettingKey): unknown {
  let node: unknown = config;
  for (const part of key.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  return node;
}

/** Variable name → text, for every setting that has a value and is not a secret. */
export function settingsAsEnv(config: BatchProcessingConfig): Record<string, string> {
  const leaves = leafSchemas();
  const env: Record<string, string> = {};
  for (const key of settingKeys) {
    const source = settings[key];
    const value = valueAt(config, key);
    const kind = leaves.get(key)?.kind;
    if (source.secret === true || value === undefined || kind === undefined) continue;
    env[source.env] = kind.format(value);
  }
  return env;
}
