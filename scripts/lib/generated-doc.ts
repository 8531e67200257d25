// A document generated from code: written by its script, or with `--check` compared and exit 1 on a
// difference (the suite's tests compare the same way).
import { readFileSync, writeFileSync } from 'node:fs';

export function writeOrCheck(target: string, rendered: string, command: string): void {
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {
      // a missing file differs
    }
    if (current !== rendered) {
      process.stderr.write(`${target} is out of date: run \`${command}\`\n`);
      process.exit(1);
    }
  } else {
    writeFileSync(target, rendered);
    process.stdout.write(`wrote ${target}\n`);
  }
}
