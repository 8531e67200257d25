// What the numbers were measured on: cores, memory, CPU model, and the Node, PostgreSQL and Kafka versions.
import { readdir, readFile } from 'node:fs/promises';
import { availableParallelism, homedir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Database } from '../shared/db/index.ts';

export interface Machine {
  nproc: number;
  memoryGiB: number;
  cpuModel: string;
  node: string;
  postgres: string;
  kafka: string;
}

async function cpuModel(): Promise<string> {
  try {
    const info = await readFile('/proc/cpuinfo', 'utf8');
    return /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The broker's version from the kafka_2.13-<version>.jar on the running broker's classpath. */
async function kafkaVersion(): Promise<string> {
  if (process.env.BENCH_KAFKA_VERSION) return process.env.BENCH_KAFKA_VERSION;
  try {
    for (const pid of await readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      const args = cmd.split('\0');
      if (!args.includes('kafka.Kafka')) continue;
      const cp = args[args.indexOf('-cp') + 1] ?? '';
      for (const entry of cp.split(':')) {
        const dir = entry.endsWith('/*') ? entry.slice(0, -2) : entry;
        const jar = (await readdir(dir).catch(() => [] as string[])).find((f) =>
          /^kafka_[\d.]+-[\d.]+\.jar$/.test(f),
        );
        const m = jar ? /^kafka_[\d.]+-([\d.]+)\.jar$/.exec(jar) : null;
        if (m?.[1]) return m[1];
      }
    }
  } catch {
    // fall through
  }
  const current = await readFile(join(homedir(), '.cache/hxp-batch/kafka.current'), 'utf8').catch(() => '');
  return current.trim() || 'unknown';
}

export async function describeMachine(db: Database): Promise<Machine> {
  const { rows } = await db.query<{ v: string }>("SELECT current_setting('server_version') AS v");
  return {
    nproc: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    cpuModel: await cpuModel(),
    node: process.version,
    postgres: rows[0]?.v ?? 'unknown',
    kafka: await kafkaVersion(),
  };
}
