// statsforecast from PyPI in a virtual environment cached under the home folder
// (~/.cache/hxp-batch/statsforecast-<version>), created on first use with `python3 -m venv` and pip.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const STATSFORECAST_VERSION = '2.1.1';
const SCRIPT = fileURLToPath(new URL('./peer_statsforecast.py', import.meta.url));

export interface PeerResult {
  seconds: number;
  /** CPU seconds of the Python process and its worker processes during forecast(). */
  cpu_seconds: number;
  series: Record<string, { point: number[]; lo95: number[]; hi95: number[] }>;
}

function run(command: string, args: string[], capture: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => chunks.push(c));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve(Buffer.concat(chunks).toString('utf8'))
        : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`)),
    );
  });
}

/** The venv's python, installing statsforecast first when the venv is not there yet. */
export async function statsforecastPython(log: (line: string) => void): Promise<string> {
  const venv = join(homedir(), '.cache', 'hxp-batch', `statsforecast-${STATSFORECAST_VERSION}`);
  const python = join(venv, 'bin', 'python');
  if (!existsSync(join(venv, '.installed'))) {
    log(`creating ${venv} (python3 -m venv, pip install statsforecast==${STATSFORECAST_VERSION}) …`);
    await run('python3', ['-m', 'venv', venv], false);
    await run(python, ['-m', 'pip', 'install', '--quiet', `statsforecast==${STATSFORECAST_VERSION}`], false);
    await run(python, ['-c', `open(${JSON.stringify(join(venv, '.installed'))}, 'w').close()`], false);
  }
  return python;
}

export async function runStatsforecast(
  dataDir: string,
  horizon: number,
  count: number | undefined,
  log: (line: string) => void,
): Promise<PeerResult> {
  const python = await statsforecastPython(log);
  const args = [SCRIPT, dataDir, String(horizon), ...(count === undefined ? [] : [String(count)])];
  return JSON.parse(await run(python, args, true)) as PeerResult;
}
