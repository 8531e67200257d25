// stack.yml → the functions the runtime serves. Reads the same file faas-cli reads, with faas-cli's
// `${VAR}` / `${VAR:-default}` expansion applied to the raw text before YAML parsing.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { settingsAsEnv, type BatchProcessingConfig } from '../shared/config/index.ts';
import { DEFAULT_MAX_REQUEST_BODY, durationMs } from '../templates/node20-ts/main.ts';

export const NAMESPACE = 'openfaas-fn';
export const CRON_TOPIC = 'cron-function';

export interface FunctionSpec {
  name: string;
  lang: string;
  image: string;
  /** Absolute path of the handler module (`<handler>/handler.ts` when `handler` is a folder). */
  handlerPath: string;
  environment: Record<string, string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  secrets: string[];
  limits: { memory?: string; cpu?: string } | null;
  requests: { memory?: string; cpu?: string } | null;
  readOnlyRootFilesystem: boolean;
}

export interface Stack {
  file: string;
  gateway: string | undefined;
  functions: FunctionSpec[];
}

/** faas-cli's envsubst: `${VAR}`, `${VAR:-default}` (default when unset or empty), `${VAR-default}` (when unset). */
export function envsubst(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}/g,
    (_m, name: string, op?: string, fallback?: string) => {
      const value = env[name];
      if (op === ':-') return value === undefined || value === '' ? (fallback ?? '') : value;
      if (op === '-') return value === undefined ? (fallback ?? '') : value;
      return value ?? '';
    },
  );
}

function stringMap(value: unknown, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${where} must be a map of names to values, got ${JSON.stringify(value)}`);
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

function resources(value: unknown): FunctionSpec['limits'] {
  if (value === undefined || value === null) return null;
  const map = stringMap(value, 'limits/requests');
  const out: { memory?: string; cpu?: string } = {};
  if (map.memory !== undefined) out.memory = map.memory;
  if (map.cpu !== undefined) out.cpu = map.cpu;
  return out;
}

function handlerModule(dir: string, handler: string): string {
  const path = isAbsolute(handler) ? handler : resolve(dir, handler);
  if (existsSync(path) && statSync(path).isDirectory()) {
    for (const file of ['handler.ts', 'handler.js', 'index.ts']) {
      if (existsSync(resolve(path, file))) return resolve(path, file);
    }
    return resolve(path, 'handler.ts');
  }
  return path;
}

/** The `environment:` maps of the files, as faas-cli reads them: taken as written, no `${VAR}` expanded. */
function environmentFiles(dir: string, files: unknown): Record<string, string> {
  if (files === undefined || files === null) return {};
  if (!Array.isArray(files))
    throw new Error(`environment_file must be a list of YAML files, got ${JSON.stringify(files)}`);
  const merged: Record<string, string> = {};
  for (const f of files) {
    const doc = parse(readFileSync(resolve(dir, String(f)), 'utf8')) as {
      environment?: unknown;
    } | null;
    Object.assign(merged, stringMap(doc?.environment, `${String(f)}: environment`));
  }
  return merged;
}

/** Parses stack.yml text; `file` anchors relative handler and environment_file paths. */
export function parseStack(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Stack {
  const dir = dirname(resolve(file));
  const doc = parse(envsubst(text, env)) as {
    provider?: { gateway?: string };
    functions?: Record<string, Record<string, unknown>>;
  } | null;
  if (!doc || typeof doc.functions !== 'object' || doc.functions === null) {
    throw new Error(`${file}: no "functions:" map found; expected faas-cli stack.yml (version 1.0)`);
  }
  const functions = Object.entries(doc.functions).map(([name, fn]): FunctionSpec => {
    if (typeof fn.handler !== 'string') {
      throw new Error(
        `${file}: function "${name}" has no "handler:" path (e.g. handler: ./functions/${name})`,
      );
    }
    return {
      name,
      lang: typeof fn.lang === 'string' ? fn.lang : 'node20-ts',
      image: typeof fn.image === 'string' ? fn.image : `${name}:latest`,
      handlerPath: handlerModule(dir, fn.handler),
      // faas-cli merges the environment files over `environment`: a file's value wins
      environment: {
        ...stringMap(fn.environment, `${name}.environment`),
        ...environmentFiles(dir, fn.environment_file),
      },
      labels: stringMap(fn.labels, `${name}.labels`),
      annotations: stringMap(fn.annotations, `${name}.annotations`),
      secrets: Array.isArray(fn.secrets) ? fn.secrets.map(String) : [],
      limits: resources(fn.limits),
      requests: resources(fn.requests),
      readOnlyRootFilesystem: fn.readonly_root_filesystem === true,
    };
  });
  return { file: resolve(file), gateway: doc.provider?.gateway, functions };
}

export function loadStack(file: string, env: NodeJS.ProcessEnv = process.env): Stack {
  if (!existsSync(file)) {
    throw new Error(`stack file ${file} not found; run from the project root or pass --stack <file>`);
  }
  return parseStack(readFileSync(file, 'utf8'), file, env);
}

/**
 * The stack as the runtime serves it: `${VAR}` expanded from the loaded configuration, so a schedule, zone,
 * topic or timeout set in the YAML file (or left at its default) reaches stack.yml as it reaches the
 * functions that read it. faas-cli, which reads no configuration file, expands from its environment.
 */
export function loadConfiguredStack(
  file: string,
  env: NodeJS.ProcessEnv,
  config: BatchProcessingConfig,
): Stack {
  return loadStack(file, { ...env, ...settingsAsEnv(config) });
}

/** Kafka topics of a function (`topic: a,b`), without the cron-connector's topic. */
export function kafkaTopics(fn: Pick<FunctionSpec, 'annotations'>): string[] {
  return (fn.annotations.topic ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '' && t !== CRON_TOPIC);
}

export function cronSchedule(fn: Pick<FunctionSpec, 'annotations'>): string | undefined {
  const topics = (fn.annotations.topic ?? '').split(',').map((t) => t.trim());
  return topics.includes(CRON_TOPIC) ? fn.annotations.schedule : undefined;
}

/** What a function's template server and of-watchdog enforce, read from its stack.yml environment. */
export interface InvocationLimits {
  /** MAX_REQUEST_BODY (the template's default when unset): a larger body is answered 413. */
  maxBodyBytes: number;
  /** of-watchdog's exec_timeout (Go duration); undefined when unset or 0, i.e. no limit. */
  execTimeoutMs: number | undefined;
}

export function invocationLimits(fn: Pick<FunctionSpec, 'environment'>): InvocationLimits {
  const body = Number(fn.environment.MAX_REQUEST_BODY);
  const exec = durationMs(fn.environment.exec_timeout);
  return {
    maxBodyBytes: Number.isInteger(body) && body > 0 ? body : DEFAULT_MAX_REQUEST_BODY,
    execTimeoutMs: exec !== undefined && exec > 0 ? exec : undefined,
  };
}
