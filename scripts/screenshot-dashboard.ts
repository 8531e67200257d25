// `npm run dashboard:screenshot`: the README's picture of the web dashboard. Starts the local runtime on the
// embedded database in a temporary folder, feeds a week of demo events (and a few bad ones, so dead letters
// show), runs the aggregations and a capacity analysis, generates a daily summary, sweeps retention (nothing
// is old enough to archive yet: the card shows the sweep and the storage), and photographs http://<api>/ in headless
// Chromium at a laptop's 1440×900 — the whole page — into docs/web-dashboard.png. Fails when the page logs
// an error. Flags: --out <png>, --chromium <path> (default CHROMIUM_BIN or /usr/bin/chromium).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runDemo } from '../runtime/demo/run-demo.ts';
import { isolatedRuntimeOptions, startRuntime } from '../runtime/runtime.ts';
import { launchChromium, watchedPage } from './lib/browser.ts';

const { values } = parseArgs({ options: { out: { type: 'string' }, chromium: { type: 'string' } } });
const out = values.out ?? fileURLToPath(new URL('../docs/web-dashboard.png', import.meta.url));
const chromium = values.chromium ?? process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const say = (line: string): void => void process.stdout.write(`${line}\n`);
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

const dir = await mkdtemp(join(tmpdir(), 'hxp-shot-'));
const rt = await startRuntime(
  isolatedRuntimeOptions(join(dir, 'pglite'), quiet, {
    PROMETHEUS_PUSHGATEWAY_URL: '',
    BATCH_PROCESSING_ARCHIVAL_PATH: join(dir, 'archive'),
    LOG_LEVEL: 'warn',
  }),
);
try {
  say(`runtime up: ${rt.apiUrl}; feeding a week of demo events`);
  // A week: the capacity analysis needs 72 hours of history before it forecasts.
  const result = await runDemo(rt.gatewayUrl, rt.db, {
    now: new Date(),
    days: 7,
    requestsPerHour: 30,
    seed: 7,
  });
  say(
    `stored ${result.events} events; aggregated; capacity analysis: HTTP ${result.capacity?.status ?? 'n/a'}`,
  );
  const now = Date.now();
  const bad = [
    { event_type: 'llm_request', timestamp: new Date(now - 3_600_000).toISOString(), data: 'not an object' },
    {
      event_type: 'llm_request',
      timestamp: new Date(now + 6 * 3_600_000).toISOString(),
      data: { latency_ms: 5 },
    },
    { event_type: 'user_feedback', source: 'web', data: { rating: Number.MAX_VALUE * 10 } },
  ];
  await fetch(`${rt.gatewayUrl}/function/ingest`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body: bad.map((e) => JSON.stringify(e)).join('\n') + '\n{"event_type": "llm_request", "data": {',
  });
  const report = await fetch(`${rt.apiUrl}/reports/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ report_type: 'daily_summary', formats: ['pdf', 'json'], wait: true }),
  });
  say(`daily summary: HTTP ${report.status}`);
  const sweep = await fetch(`${rt.apiUrl}/retention/cleanup`, { method: 'POST' });
  say(`retention sweep: HTTP ${sweep.status}`);

  const browser = await launchChromium(chromium);
  try {
    const { page, problems } = await watchedPage(browser, 1440, 900);
    await page.goto(`${rt.apiUrl}/`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('[data-chart="ingestion"] svg', { timeout: 30_000 });
    if (problems.length > 0) throw new Error(`the page logged problems:\n${problems.join('\n')}`);
    const overflow = (await page.evaluate(
      'document.documentElement.scrollWidth - window.innerWidth',
    )) as number;
    if (overflow > 0) throw new Error(`the page is ${overflow} px wider than the 1440 px screen`);
    await writeFile(out, await page.screenshot({ fullPage: true }));
    say(`wrote ${out}`);
  } finally {
    await browser.close();
  }
} finally {
  await rt.stop();
  await rm(dir, { recursive: true, force: true });
}
