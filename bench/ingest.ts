// Measurement 1a and 4: Kafka → PostgreSQL with pullFromKafka in a child process (events/s, peak RSS).
// The parent also samples the child's VmHWM from /proc while it runs, as a cross-check of maxRSS.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { sampleBackendCpu } from './backend-cpu.ts';
import {
  GO_LINE,
  READY_LINE,
  RESULT_PREFIX,
  type IngestChildConfig,
  type IngestChildResult,
} from './ingest-protocol.ts';

const CHILD = fileURLToPath(new URL('./ingest-child.ts', import.meta.url));

export interface IngestMeasurement extends IngestChildResult {
  eventsPerSec: number;
  /** Highest VmHWM sampled from /proc/<pid>/status (KiB); 0 when /proc is unavailable. */
  vmHwmKiB: number;
  /** CPU time of the child's PostgreSQL backends (from /proc; 0 when PostgreSQL runs elsewhere). */
  backendCpuMs: number;
}

/** Several children started together: each calls ready() once connected and starts pulling when go resolves. */
export interface StartGate {
  ready: () => void;
  go: Promise<void>;
}

async function vmHwm(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmHWM:\s+(\d+) kB/m.exec(status);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Runs the child and waits for its result. `bundle` is the esbuild bundle of ingest-child.ts (run with plain
 * node, as deployed); without it the child runs through tsx.
 */
export async function measureIngest(
  config: IngestChildConfig,
  bundle?: string,
  gate?: StartGate,
): Promise<IngestMeasurement> {
  const argv = bundle ? [bundle] : ['--import', 'tsx', CHILD];
  const backends = await sampleBackendCpu(config.databaseUrl);
  const child = spawn(process.execPath, argv, {
    env: { ...process.env, BENCH_INGEST: JSON.stringify({ ...config, startGate: gate !== undefined }) },
    stdio: [gate ? 'pipe' : 'ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  let readied = false;
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (gate && !readied && stdout.includes(READY_LINE)) {
      readied = true;
      gate.ready();
      void gate.go.then(() => child.stdin?.end(`${GO_LINE}\n`));
    }
  });
  let hwm = 0;
  const sampler = setInterval(() => {
    if (child.pid !== undefined) void vmHwm(child.pid).then((v) => (hwm = Math.max(hwm, v)));
  }, 250);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  clearInterval(sampler);
  const backendCpuMs = await backends.stop();
  const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  if (code !== 0 || !line) {
    throw new Error(`the ingest child process exited with ${code} without a result; its stderr is above`);
  }
  const result = JSON.parse(line.slice(RESULT_PREFIX.length)) as IngestChildResult;
  return { ...result, eventsPerSec: result.stored / (result.busyMs / 1000), vmHwmKiB: hwm, backendCpuMs };
}
