// The cron-connector, locally: functions annotated `topic: cron-function` + `schedule` are fired with
// node-cron, POSTing an empty body to /function/<name>.<namespace> with X-Connector: cron-connector and
// X-Topic: cron-function, as the CE connector does. `fireDue(from, to)` fires every schedule due in
// (from, to] from an injected clock, so tests (and `--cron-tick`) need not wait for a minute to turn.
import { CronExpressionParser } from 'cron-parser';
import nodeCron, { type ScheduledTask } from 'node-cron';
import { CRON_TIME_ZONE } from '../shared/status/aggregation-status.ts';
import { NAMESPACE, cronSchedule, type FunctionSpec } from './stack.ts';
import type { RuntimeLog } from './supervisor.ts';

export interface CronJob {
  fn: string;
  /** The 5-field expression without the CRON_TZ= prefix. */
  expression: string;
  timezone: string;
}

/**
 * robfig/cron v3 accepts `CRON_TZ=Area/City <expr>` (and `TZ=`); without one a schedule fires in
 * `defaultZone`, the cron-connector's own zone (CRON_TIME_ZONE).
 */
export function parseSchedule(
  schedule: string,
  defaultZone = CRON_TIME_ZONE,
): { expression: string; timezone: string } {
  const m = /^\s*(?:CRON_TZ|TZ)=(\S+)\s+(.+)$/.exec(schedule);
  const expression = (m ? m[2]! : schedule).trim();
  const timezone = m ? m[1]! : defaultZone;
  if (expression.split(/\s+/).length !== 5) {
    throw new Error(
      `schedule ${JSON.stringify(schedule)} is not a 5-field cron expression (minute hour day month weekday), e.g. "5 * * * *"`,
    );
  }
  CronExpressionParser.parse(expression, { tz: timezone });
  return { expression, timezone };
}

export function cronJobs(functions: FunctionSpec[], defaultZone = CRON_TIME_ZONE): CronJob[] {
  return functions.flatMap((f) => {
    const schedule = cronSchedule(f);
    if (schedule === undefined) return [];
    return [{ fn: f.name, ...parseSchedule(schedule, defaultZone) }];
  });
}

/** Next fire time strictly after `after`. */
export function nextFire(expression: string, timezone: string, after: Date): Date {
  return CronExpressionParser.parse(expression, { tz: timezone, currentDate: after }).next().toDate();
}

/** Whether the schedule has a fire time in (from, to]. */
export function dueBetween(job: Pick<CronJob, 'expression' | 'timezone'>, from: Date, to: Date): boolean {
  return nextFire(job.expression, job.timezone, from).getTime() <= to.getTime();
}

export type CronInvoke = (fn: string, headers: Record<string, string>) => Promise<number>;

/** The request the CE cron-connector sends: POST, empty body, these headers, to `<fn>.<namespace>`. */
export function cronRequest(
  fn: string,
  gatewayUrl: string,
): { url: string; headers: Record<string, string> } {
  return {
    url: `${gatewayUrl.replace(/\/$/, '')}/function/${fn}.${NAMESPACE}`,
    headers: { 'X-Connector': 'cron-connector', 'X-Topic': 'cron-function', 'Content-Type': 'text/plain' },
  };
}

/** Invoke through the gateway over HTTP, exactly as the connector would. */
export function gatewayCronInvoke(gatewayUrl: string, authHeader?: string): CronInvoke {
  return async (fn) => {
    const { url, headers } = cronRequest(fn, gatewayUrl);
    const res = await fetch(url, {
      method: 'POST',
      headers: authHeader ? { ...headers, Authorization: authHeader } : headers,
      body: '',
    });
    await res.arrayBuffer();
    return res.status;
  };
}

export interface CronScheduler {
  jobs: CronJob[];
  /** Fires every job due in (from, to]; resolves with the names fired and their statuses. */
  fireDue(from: Date, to: Date): Promise<Array<{ fn: string; status: number }>>;
  /** Starts node-cron timers (not needed for fireDue). */
  start(): void;
  stop(): void;
}

export function createCronScheduler(jobs: CronJob[], invoke: CronInvoke, log: RuntimeLog): CronScheduler {
  let tasks: ScheduledTask[] = [];
  const fire = async (job: CronJob): Promise<{ fn: string; status: number }> => {
    const { headers } = cronRequest(job.fn, 'http://gateway');
    try {
      const status = await invoke(job.fn, headers);
      log.info({ fn: job.fn, schedule: job.expression, status }, 'cron fired');
      return { fn: job.fn, status };
    } catch (err) {
      log.error({ fn: job.fn, err }, 'cron invocation failed');
      return { fn: job.fn, status: 0 };
    }
  };
  return {
    jobs,
    fireDue: (from, to) => Promise.all(jobs.filter((j) => dueBetween(j, from, to)).map(fire)),
    start() {
      tasks = jobs.map((job) =>
        nodeCron.schedule(job.expression, () => fire(job), {
          timezone: job.timezone,
          name: `cron:${job.fn}`,
          noOverlap: true,
        }),
      );
    },
    stop() {
      for (const t of tasks) void t.destroy();
      tasks = [];
    },
  };
}
