// The retention deps from the one configuration: the object store (S3 bucket or the local archive folder),
// the policy, the job bounds, the API token and the schedule.
import type { BatchProcessingConfig } from '../config/index.ts';
import { openObjectStore } from '../archive/index.ts';
import type { Database } from '../db/index.ts';
import { jobLeaseMs, type JobLogger, type Publish } from '../jobs/index.ts';
import type { Registry } from 'prom-client';
import { policyFrom } from './policy.ts';
import type { RetentionRouteDeps } from './routes.ts';

export function retentionDepsFrom(
  config: BatchProcessingConfig,
  db: Database,
  extras: { metrics?: Registry | undefined; log?: JobLogger; publish?: Publish | undefined },
): RetentionRouteDeps {
  const timeoutMs = config.jobs.timeoutSeconds * 1000;
  return {
    db,
    store: openObjectStore(config),
    policy: policyFrom(config),
    ...(extras.metrics ? { metrics: extras.metrics } : {}),
    ...(extras.log ? { log: extras.log } : {}),
    ...(extras.publish ? { publish: extras.publish } : {}),
    options: { timeoutMs, lockLeaseMs: jobLeaseMs(timeoutMs), retries: config.jobs.retries },
    apiToken: config.api.token,
    schedule: config.retention.cron,
  };
}
