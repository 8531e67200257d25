// Turns validation issues into the lines of the one CONFIG_INVALID error. Each line names where the value
// came from (environment variable, YAML path and file, or secret file), shows the value (redacted if the
// setting is secret), says what is wrong and gives an example of the expected form:
//   BATCH_PROCESSING_HOURLY_CRON="every hour": not a 5-field cron expression (…), e.g. "0 * * * *"
import type { z } from 'zod';
import { BatchError } from '../errors/index.ts';
import type { SettingKey } from './schema.ts';
import { leafSchemas } from './schema.ts';
import { settings } from './keys.ts';
import type { Origin, RawSetting } from './sources.ts';

export const REDACTED = '<redacted>';

const leaves = leafSchemas();

export function originLabel(origin: Origin): string {
  if (origin.kind === 'env') return origin.name;
  if (origin.kind === 'yaml') return `${origin.path} (${origin.file})`;
  return origin.file;
}

/** A value as shown in an error line: JSON, shortened, or redacted for secrets. */
export function showValue(key: SettingKey, value: unknown): string {
  if (settings[key].secret === true) return REDACTED;
  const shown = JSON.stringify(value) ?? String(value);
  return shown.length > 100 ? `${shown.slice(0, 97)}…` : shown;
}

export function exampleOf(key: SettingKey): string {
  const leaf = leaves.get(key);
  const fromDefault = leaf?.hasDefault === true ? leaf.kind.format(leaf.fallback) : '';
  return settings[key].example ?? (fromDefault !== '' ? fromDefault : (leaf?.kind.example ?? ''));
}

function keyOf(path: readonly PropertyKey[]): SettingKey | undefined {
  for (let length = path.length; length > 0; length--) {
    const candidate = path.slice(0, length).join('.');
    if (Object.hasOwn(settings, candidate)) return candidate as SettingKey;
  }
  return undefined;
}

export function issueLine(issue: z.core.$ZodIssue, values: ReadonlyMap<SettingKey, RawSetting>): string {
  const key = keyOf(issue.path);
  if (key === undefined) return `${issue.path.join('.') || '(root)'}: ${issue.message}`;
  const raw = values.get(key);
  // A rule spanning keys may give its own example: the key's generic one can break that very rule.
  const own: unknown = issue.code === 'custom' ? issue.params?.example : undefined;
  const example = `e.g. ${JSON.stringify(typeof own === 'string' ? own : exampleOf(key))}`;
  if (raw === undefined) return `${settings[key].env} (not set): ${issue.message}, ${example}`;
  return `${originLabel(raw.origin)}=${showValue(key, raw.value)}: ${issue.message}, ${example}`;
}

/** The one error for a bad configuration: every problem on its own line. */
export function configInvalid(lines: readonly string[]): BatchError {
  const count = lines.length === 1 ? '1 problem' : `${lines.length} problems`;
  const message = `Invalid configuration (${count}); fix and restart:\n${lines.map((l) => `  ${l}`).join('\n')}`;
  return new BatchError('CONFIG_INVALID', message, { context: { problems: [...lines] } });
}
