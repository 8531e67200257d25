// Pushes the process registry to the Pushgateway (prom-client's Pushgateway, PUT: the group is replaced as
// a whole) shortly after something was recorded, and once more when the function shuts down. Grouping key:
// job = the function's name, instance = metrics.instance or the host name (the pod, on Kubernetes), so the
// replicas of one function do not overwrite each other. A push that fails is logged and retried with the
// next one; it never fails the run that recorded the metric.
import { hostname } from 'node:os';
import { Pushgateway, type Registry } from 'prom-client';

export interface PushGrouping {
  job: string;
  instance: string;
}

export interface PusherLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface MetricsPusherOptions {
  url: string;
  registry: Registry;
  grouping: PushGrouping;
  log?: PusherLogger;
  /** Recordings within this long are pushed together (default 1 s). */
  delayMs?: number;
  /** Per-request timeout (default 5 s). */
  timeoutMs?: number;
}

export interface MetricsPusher {
  readonly grouping: PushGrouping;
  /** Pushes after `delayMs`, together with whatever else is recorded meanwhile. */
  schedule(): void;
  /** Pushes now (after any push in flight); resolves when done, never rejects. */
  flush(): Promise<void>;
}

/** The grouping key of this process: its function's name and instance. */
export function pushGrouping(env: NodeJS.ProcessEnv, instance: string | undefined): PushGrouping {
  return { job: env.HXP_FUNCTION_NAME || 'hxp-batch', instance: instance ?? hostname() };
}

export function createMetricsPusher(options: MetricsPusherOptions): MetricsPusher {
  const gateway = new Pushgateway(options.url, { timeout: options.timeoutMs ?? 5_000 }, options.registry);
  const { grouping } = options;
  const delayMs = options.delayMs ?? 1_000;
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  let failing = false;

  const pushOnce = async (): Promise<void> => {
    try {
      await gateway.push({ jobName: grouping.job, groupings: { instance: grouping.instance } });
      if (failing) options.log?.info({ url: options.url, ...grouping }, 'metrics push works again');
      failing = false;
    } catch (err) {
      // One warning per failing streak: a Pushgateway that is down must not flood the log.
      if (!failing) options.log?.warn({ err, url: options.url, ...grouping }, 'could not push metrics');
      failing = true;
    }
  };
  const enqueue = (): Promise<void> => (chain = chain.then(pushOnce));

  return {
    grouping,
    schedule() {
      if (timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        void enqueue();
      }, delayMs);
      timer.unref();
    },
    flush() {
      if (timer !== undefined) {
        clearTimeout(timer);
        timer = undefined;
      }
      return enqueue();
    },
  };
}
