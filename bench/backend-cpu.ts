// CPU time of PostgreSQL backends, read from /proc (the benchmark runs beside its PostgreSQL): the cost of a
// step in CPU seconds, which the shared machine's load does not change the way it changes wall time.
import { readFile } from 'node:fs/promises';
import pg from 'pg';

/** Linux reports utime/stime in USER_HZ ticks, 100 per second on every architecture Node runs on. */
const TICKS_PER_MS = 100 / 1000;

/** utime + stime of a process, from the text of /proc/<pid>/stat. */
export function statCpuMs(stat: string): number {
  // the command name (field 2) may hold spaces and parentheses: count fields after its closing one
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_MS;
}

async function processCpuMs(pid: number): Promise<number | undefined> {
  try {
    return statCpuMs(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

export interface BackendCpuSampler {
  /** The CPU time the database's client backends (other than the sampler's) used while it ran. */
  stop(): Promise<number>;
}

/**
 * Samples the CPU time of every client backend of the database at `databaseUrl` every `everyMs`. A backend's
 * last sample is its total only if it was idle between that sample and its exit: the ingest child idles
 * for seconds before it closes its pool, so its backends are counted whole.
 */
export async function sampleBackendCpu(databaseUrl: string, everyMs = 200): Promise<BackendCpuSampler> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  // a backend there before the start is counted from its time then; one that came later from zero
  const before = new Map<number, number>();
  const last = new Map<number, number>();
  const sample = async (into: Map<number, number>): Promise<void> => {
    const { rows } = await client.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
       WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
    );
    for (const { pid } of rows) {
      const ms = await processCpuMs(pid);
      if (ms !== undefined) into.set(pid, ms);
    }
  };
  await sample(before);
  let busy = Promise.resolve();
  const timer = setInterval(() => {
    // A missed sample only widens the interval between the ones around it; the measurement goes on.
    busy = busy.then(() => sample(last)).catch(() => undefined);
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await busy;
      await client.end();
      let total = 0;
      for (const [pid, ms] of last) total += ms - (before.get(pid) ?? 0);
      return total;
    },
  };
}
