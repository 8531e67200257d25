// statsforecast from PyPI in a virtual environment cached under the home folder
// (~/.cache/hxp-batch/statsforecast-<version>, see bench/python-venv.ts).
import { fileURLToPath } from 'node:url';
import { runCommand, venvPython } from '../python-venv.ts';

export const STATSFORECAST_VERSION = '2.1.1';
const SCRIPT = fileURLToPath(new URL('./peer_statsforecast.py', import.meta.url));

export interface PeerResult {
  seconds: number;
  /** CPU seconds of the Python process and its worker processes during forecast(). */
  cpu_seconds: number;
  series: Record<string, { point: number[]; lo95: number[]; hi95: number[] }>;
}

export async function runStatsforecast(
  dataDir: string,
  horizon: number,
  count: number | undefined,
  log: (line: string) => void,
): Promise<PeerResult> {
  const python = await venvPython('statsforecast', STATSFORECAST_VERSION, log);
  const args = [SCRIPT, dataDir, String(horizon), ...(count === undefined ? [] : [String(count)])];
  return JSON.parse(await runCommand(python, args, true)) as PeerResult;
}
