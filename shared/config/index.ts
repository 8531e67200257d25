export { configuredSettings, loadConfig, loadConfigOrExit, parseConfig } from './load.ts';
export type { LoadConfigOptions } from './load.ts';
export {
  BatchProcessingConfig,
  CAPACITY_ANALYSES,
  DISTRIBUTION_CHANNELS,
  LOG_LEVELS,
  MAX_JOB_TIMEOUT_SECONDS,
  REPORT_FORMATS,
  WEEK_STARTS,
} from './schema.ts';
export type { CapacityAnalysis, SettingKey } from './schema.ts';
export { secretKeys, settingKeys, settings } from './keys.ts';
export type { SettingSource } from './keys.ts';
export { DEFAULT_SECRETS_DIR } from './sources.ts';
export { renderConfigDocs } from './docs.ts';
export { settingsAsEnv } from './as-env.ts';
