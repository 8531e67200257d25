// Progress lines on stderr with the elapsed time of the whole run and of each step, so a long run shows
// where it is and what each step cost.
import { performance } from 'node:perf_hooks';

const runStart = performance.now();

function stamp(): string {
  return `[${((performance.now() - runStart) / 1000).toFixed(1).padStart(7)}s]`;
}

export function say(message: string): void {
  process.stderr.write(`${stamp()} ${message}\n`);
}

/** Runs `fn`, printing its start and end with the time it took; returns its value and milliseconds. */
export async function step<T>(name: string, fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  say(`${name} …`);
  const started = performance.now();
  try {
    const value = await fn();
    const ms = performance.now() - started;
    say(`${name} done in ${formatMs(ms)}`);
    return { value, ms };
  } catch (err) {
    say(`${name} FAILED after ${formatMs(performance.now() - started)}`);
    throw err;
  }
}

export function formatMs(ms: number): string {
  return ms >= 10_000
    ? `${(ms / 1000).toFixed(1)} s`
    : ms >= 1000
      ? `${(ms / 1000).toFixed(2)} s`
      : `${ms.toFixed(0)} ms`;
}

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Calls `tick` every `everyMs` until the returned stop function is called. */
export function every(everyMs: number, tick: () => void): () => void {
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
