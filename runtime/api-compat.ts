// The OpenFaaS gateway's JSON shapes (/system/functions, /system/function/<name>, /system/info), so
// faas-cli and the cron-connector read the local runtime as they read a real gateway.
import { NAMESPACE, type FunctionSpec } from './stack.ts';
import type { FunctionProcess } from './supervisor.ts';

export interface FunctionStatus {
  name: string;
  image: string;
  namespace: string;
  envProcess: string;
  envVars: Record<string, string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  secrets: string[];
  limits: FunctionSpec['limits'];
  requests: FunctionSpec['requests'];
  readOnlyRootFilesystem: boolean;
  invocationCount: number;
  replicas: number;
  availableReplicas: number;
  createdAt: string;
  /** Local runtime extras (ignored by faas-cli): process state and how often it was restarted. */
  status: string;
  restarts: number;
}

export function functionStatus(proc: FunctionProcess, invocationCount: number): FunctionStatus {
  const spec = proc.spec;
  return {
    name: spec.name,
    image: spec.image,
    namespace: NAMESPACE,
    envProcess: 'node --import tsx templates/node20-ts/index.ts',
    envVars: spec.environment,
    labels: spec.labels,
    annotations: spec.annotations,
    secrets: spec.secrets,
    limits: spec.limits,
    requests: spec.requests,
    readOnlyRootFilesystem: spec.readOnlyRootFilesystem,
    invocationCount,
    replicas: 1,
    availableReplicas: proc.state === 'ready' ? 1 : 0,
    createdAt: proc.startedAt.toISOString(),
    status: proc.state,
    restarts: proc.restarts,
  };
}

export function systemInfo(): object {
  return {
    provider: {
      provider: 'hxp-batch-runtime',
      orchestration: 'local-processes',
      version: { release: '0.1.0' },
    },
    version: { release: '0.1.0', sha: 'local', commit_message: 'hxp-batch local runtime' },
    arch: process.arch,
  };
}
