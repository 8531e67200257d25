// Python peers of the benchmark (statsforecast, pandas) run from PyPI packages in a virtual environment
// cached under the home folder (~/.cache/hxp-batch/<package>-<version>), made on first use with
// `python3 -m venv` and pip. Nothing else of the project needs Python.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Runs a command; resolves with its stdout when `capture`, else lets it print. Rejects on a non-zero exit. */
export function runCommand(command: string, args: string[], capture: boolean): Promise<string> {
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

/** The python of the venv holding `pkg==version`, installing it first when the venv is not complete yet. */
export async function venvPython(pkg: string, version: string, log: (line: string) => void): Promise<string> {
  const venv = join(homedir(), '.cache', 'hxp-batch', `${pkg}-${version}`);
  const python = join(venv, 'bin', 'python');
  const marker = join(venv, '.installed');
  if (!existsSync(marker)) {
    log(`creating ${venv} (python3 -m venv, pip install ${pkg}==${version}) …`);
    await runCommand('python3', ['-m', 'venv', venv], false);
    await runCommand(python, ['-m', 'pip', 'install', '--quiet', `${pkg}==${version}`], false);
    await runCommand(python, ['-c', `open(${JSON.stringify(marker)}, 'w').close()`], false);
  }
  return python;
}
