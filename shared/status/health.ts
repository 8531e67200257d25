// GET /health: one probe per configured dependency, each with its latency; 503 naming what failed.
import type { Queryable } from '../db/index.ts';
import { pingDatabase } from './sql.ts';

export type Probe = () => Promise<void>;

export interface CheckResult {
  status: 'healthy' | 'unhealthy';
  latencyMs: number;
  error?: { code: string; message: string };
}

export interface HealthReport {
  status: 'healthy' | 'unhealthy';
  service: 'batch-processing-api';
  timestamp: string;
  checks: Record<string, CheckResult>;
  failed?: string[];
}

interface NamedProbe {
  probe: Probe;
  /** Error code reported when the probe fails (from the catalogue). */
  code: string;
}

export type HealthProbes = Record<string, NamedProbe>;

function withTimeout(probe: Probe, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    probe(),
    new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export async function checkHealth(
  probes: HealthProbes,
  options: { timeoutMs?: number; now?: () => Date } = {},
): Promise<{ status: 200 | 503; body: HealthReport }> {
  const entries = await Promise.all(
    Object.entries(probes).map(async ([name, { probe, code }]): Promise<[string, CheckResult]> => {
      const started = performance.now();
      try {
        await withTimeout(probe, options.timeoutMs ?? 3_000);
        return [name, { status: 'healthy', latencyMs: Math.round((performance.now() - started) * 10) / 10 }];
      } catch (err) {
        const latencyMs = Math.round((performance.now() - started) * 10) / 10;
        return [
          name,
          { status: 'unhealthy', latencyMs, error: { code, message: (err as Error).message || String(err) } },
        ];
      }
    }),
  );
  const checks = Object.fromEntries(entries);
  const failed = entries.filter(([, r]) => r.status === 'unhealthy').map(([n]) => n);
  const body: HealthReport = {
    status: failed.length === 0 ? 'healthy' : 'unhealthy',
    service: 'batch-processing-api',
    timestamp: (options.now?.() ?? new Date()).toISOString(),
    checks,
  };
  if (failed.length > 0) body.failed = failed;
  return { status: failed.length === 0 ? 200 : 503, body };
}

export function databaseProbe(db: Queryable): NamedProbe {
  return { probe: () => pingDatabase(db), code: 'DB_CONNECT_FAILED' };
}

/** Kafka: connect an admin client and describe the cluster. */
export function kafkaProbe(brokers: string[], clientId = 'hxp-batch-status'): NamedProbe {
  return {
    code: 'KAFKA_UNAVAILABLE',
    probe: async () => {
      const { Kafka, logLevel } = await import('kafkajs');
      const admin = new Kafka({
        clientId,
        brokers,
        logLevel: logLevel.NOTHING,
        connectionTimeout: 2_000,
        retry: { retries: 0 },
      }).admin();
      try {
        await admin.connect();
        await admin.describeCluster();
      } finally {
        // The probe's answer is already known; a failed goodbye to the broker changes nothing about it.
        await admin.disconnect().catch(() => undefined);
      }
    },
  };
}

export interface S3ProbeOptions {
  endpoint?: string | undefined;
  bucket: string;
  region?: string | undefined;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  forcePathStyle?: boolean;
}

/** S3: HeadBucket on the configured bucket. */
export function s3Probe(options: S3ProbeOptions): NamedProbe {
  return {
    code: 'S3_UNAVAILABLE',
    probe: async () => {
      const [{ HeadBucketCommand }, { createS3Client }] = await Promise.all([
        import('@aws-sdk/client-s3'),
        import('../archive/s3-client.ts'),
      ]);
      const client = createS3Client({ ...options, region: options.region ?? 'us-east-1', maxAttempts: 1 });
      try {
        await client.send(new HeadBucketCommand({ Bucket: options.bucket }));
      } finally {
        client.destroy();
      }
    },
  };
}
