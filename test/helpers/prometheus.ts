// The harness's real Prometheus from a test: instant queries, waiting for a series to be scraped, and
// registering a runtime started on a free port as a scrape target (file_sd, removed at teardown).
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export async function query(prometheusUrl: string, promql: string): Promise<Sample[]> {
  const url = `${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`;
  const answer = (await (await fetch(url)).json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: Sample[] };
  };
  if (answer.status !== 'success') throw new Error(`${promql}: ${answer.error ?? answer.status}`);
  return answer.data?.result ?? [];
}

/** Polls until `promql` returns at least one sample (scrapes run every 2 s); the last answer otherwise. */
export async function waitForSamples(
  prometheusUrl: string,
  promql: string,
  timeoutMs = 60_000,
): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await query(prometheusUrl, promql);
    if (samples.length > 0 || Date.now() > deadline) return samples;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Adds 127.0.0.1:<port> to the harness's `hxp-runtime` scrape job until the test ends. */
export async function registerScrapeTarget(
  t: ExecutionContext,
  targetsDir: string,
  port: number,
): Promise<void> {
  const name = `test-${randomBytes(5).toString('hex')}`;
  const file = join(targetsDir, `${name}.json`);
  // Written under a name the scrape job's *.json does not match, then renamed: Prometheus watches the
  // folder and would otherwise read the file between its creation and its write, empty.
  const partial = join(targetsDir, `${name}.tmp`);
  await writeFile(partial, JSON.stringify([{ targets: [`127.0.0.1:${port}`] }]));
  await rename(partial, file);
  t.teardown(() => rm(file, { force: true }));
}
