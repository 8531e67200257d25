// The web dashboard at the runtime's API port, in real headless Chromium: it loads with no console error,
// no failed request and no CDN (the libraries come from the status function), draws its charts, and shows
// the figures the JSON API returns — per aggregation level, the recent runs, the dead letters, retention —
// on a laptop and on a phone.
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Runtime } from '../../runtime/runtime.ts';
import type { DeadLetterPage } from '../../shared/ingest/index.ts';
import type { RetentionStatus } from '../../shared/retention/index.ts';
import type { AggregationStatusReport, RunView } from '../../shared/status/index.ts';
import { launchChromium, watchedPage } from '../../scripts/lib/browser.ts';
import { binaryTest, requireBinary } from '../helpers/services.ts';
import { projectRuntime } from './runtime-fixtures.ts';

const HOUR = 3_600_000;

async function json<T>(url: string): Promise<T> {
  return (await (await fetch(url)).json()) as T;
}

async function seed(rt: Runtime): Promise<{ stored: number; rejected: number }> {
  const now = Date.now();
  const lines: string[] = [];
  for (let h = 3; h <= 6; h++) {
    for (let i = 0; i < 5; i++) {
      lines.push(
        JSON.stringify({
          id: `dash-${h}-${i}`,
          event_type: i % 2 ? 'llm_request' : 'system_metric',
          timestamp: new Date(now - h * HOUR).toISOString(),
          source: 'api-1',
          data: i % 2 ? { model: 'llama-3-70b', latency_ms: 700 + i } : { cpu_usage: 40 + i },
        }),
      );
    }
  }
  // Rejected: a schema error, and a payload with markup that the page must show as text.
  lines.push(JSON.stringify({ event_type: 'llm_request', data: '<script>alert(1)</script>' }));
  lines.push(
    JSON.stringify({
      event_type: 'llm_request',
      timestamp: new Date(now + 5 * HOUR).toISOString(),
      data: {},
    }),
  );
  const res = await fetch(`${rt.gatewayUrl}/function/ingest`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body: lines.join('\n'),
  });
  return (await res.json()) as { stored: number; rejected: number };
}

binaryTest('chromium')(
  'the web dashboard loads without errors and shows the figures the API returns',
  async (t) => {
    t.timeout(240_000, 'three function processes and a browser on a shared 2-core machine');
    const rt = await projectRuntime(t, [
      'ingest',
      'aggregate-hourly',
      'status',
      'generate-report',
      'retention-sweep',
    ]);
    t.like(await seed(rt), { stored: 20, rejected: 2 });
    const run = await fetch(`${rt.gatewayUrl}/function/aggregate-hourly`, { method: 'POST' });
    t.like(await run.json(), { status: 'succeeded', windowsDone: 4 });

    const generated = await fetch(`${rt.apiUrl}/reports/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ report_type: 'test', format: 'json', wait: true }),
    });
    t.is(generated.status, 200);
    // A sweep with nothing past retention yet: the card shows it, and the storage it measured.
    const sweep = await fetch(`${rt.apiUrl}/retention/cleanup`, { method: 'POST' });
    t.is(sweep.status, 200);
    t.like(await sweep.json(), { status: 'succeeded' });
    const retention = await json<RetentionStatus>(`${rt.apiUrl}/retention/status`);
    const status = await json<AggregationStatusReport>(`${rt.apiUrl}/aggregation/status`);
    const reports = await json<{ reports: Array<{ id: number; download_url: string | null }> }>(
      `${rt.apiUrl}/reports/list`,
    );
    const runs = await json<{ runs: RunView[] }>(`${rt.apiUrl}/runs?limit=15`);
    const letters = await json<DeadLetterPage>(`${rt.apiUrl}/dead-letters?limit=8`);

    const browser = await launchChromium(requireBinary('chromium')!);
    t.teardown(() => browser.close());
    const { page, problems } = await watchedPage(browser);
    const requested: string[] = [];
    page.on('request', (req) => requested.push(req.url()));
    const response = await page.goto(`${rt.apiUrl}/`, { waitUntil: 'networkidle0' });
    t.is(response?.status(), 200);
    t.regex(response?.headers()['content-type'] ?? '', /^text\/html/);
    await page.waitForSelector('[data-chart="ingestion"] svg', { timeout: 30_000 });
    await page.waitForSelector('[data-chart="rejected"] svg', { timeout: 30_000 });
    t.deepEqual(problems, [], 'no console error, failed request or error answer');
    t.true(
      requested.every((url) => url.startsWith(rt.apiUrl) || url.startsWith('data:')),
      'nothing from elsewhere',
    );

    // Each level's card says what /aggregation/status says.
    for (const [period, p] of Object.entries(status.periods)) {
      const card = await page.$eval(`[data-period="${period}"]`, (el) => ({
        status: el.querySelector('.badge')?.textContent?.trim(),
        next: el.querySelector('[data-field="next-run"] time')?.getAttribute('datetime'),
        failing: el.querySelector('[data-field="failing"]')?.textContent?.trim(),
      }));
      t.deepEqual(card, { status: p.status, next: p.nextRun, failing: String(p.failingWindows) }, period);
    }
    t.is(status.periods.hourly.status, 'completed');
    // The recent runs and the dead letters are the API's, in its order.
    const runIds = await page.$$eval('#runs tr[data-run-id]', (rows) =>
      rows.map((r) => Number(r.getAttribute('data-run-id'))),
    );
    t.deepEqual(
      runIds,
      runs.runs.map((r) => r.id),
    );
    const letterIds = await page.$$eval('#dead-letters tr[data-dead-letter-id]', (rows) =>
      rows.map((r) => Number(r.getAttribute('data-dead-letter-id'))),
    );
    t.deepEqual(
      letterIds,
      letters.deadLetters.map((l) => l.id),
    );
    t.is(letterIds.length, 2);
    const figures = await page.$$eval('[data-field]', (els) =>
      Object.fromEntries(els.map((e) => [e.getAttribute('data-field'), e.textContent?.trim()])),
    );
    t.is(figures['events-24h'], '20');
    t.is(figures['rejected-24h'], '2');
    t.is(figures['dead-letters-pending'], '2');
    // A payload holding markup is shown as text, never run.
    t.true((await page.content()).includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    // The reports are /reports/list's, each stored one with a link that downloads it.
    const reportLinks = await page.$$eval('#reports tr[data-report-id]', (rows) =>
      rows.map((r) => [
        Number(r.getAttribute('data-report-id')),
        r.querySelector('a')?.getAttribute('href') ?? null,
      ]),
    );
    t.deepEqual(
      reportLinks,
      reports.reports.map((r) => [r.id, r.download_url]),
    );
    t.is(reportLinks.length, 1);
    const download = await fetch(`${rt.apiUrl}${reportLinks[0]![1]}`);
    t.is(download.status, 200);
    t.like(await download.json(), { report_type: 'test' });
    // No analyze-capacity in this stack: the section says how to get one.
    t.regex(await page.$eval('#capacity', (el) => el.textContent ?? ''), /No capacity analysis yet/);
    // Retention says what /retention/status says: the sweep that ran, the next, nothing archived, the quotas.
    const card = await page.$eval('#retention', (el) => ({
      available: el.getAttribute('data-available'),
      lastSweep: el.querySelector('[data-field="last-sweep"] time')?.getAttribute('datetime'),
      badge: el.querySelector('[data-field="last-sweep"] .badge')?.textContent?.trim(),
      nextSweep: el.querySelector('[data-field="next-sweep"] time')?.getAttribute('datetime'),
      archived: el.querySelector('[data-field="archived"]')?.textContent?.trim(),
      stores: [...el.querySelectorAll('[data-store]')].map((s) => s.getAttribute('data-store')),
      text: el.textContent ?? '',
    }));
    t.like(card, {
      available: 'true',
      lastSweep: retention.lastSweep?.startedAt,
      badge: 'succeeded',
      nextSweep: retention.nextSweep,
    });
    t.is(retention.lastSweep?.status, 'succeeded');
    t.regex(card.archived ?? '', /Nothing archived yet/);
    t.deepEqual(card.stores, ['database', 'archive']);
    t.true(card.text.includes(`raw events ${retention.policy.rawDays} d`));

    // Readable on a laptop: nothing wider than the 1440-pixel viewport.
    t.true(
      await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'),
      'no sideways scroll',
    );
    const dir = await mkdtemp(join(tmpdir(), 'hxp-dash-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const png = join(dir, 'dashboard.png');
    await writeFile(png, await page.screenshot({ fullPage: true }));
    t.true((await stat(png)).size > 20_000, 'the screenshot holds a rendered page');

    // Readable on a 390-pixel phone: the levels in one column, the page no wider than the screen (a wide
    // table scrolls inside its card), nothing else past the right edge.
    await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 1 });
    await page.reload({ waitUntil: 'networkidle0' });
    await page.waitForSelector('[data-chart="ingestion"] svg', { timeout: 30_000 });
    const phone = await page.evaluate(`(() => ({
      overflow: document.documentElement.scrollWidth - window.innerWidth,
      levelColumns: getComputedStyle(document.querySelector('.grid4')).gridTemplateColumns.split(' ').length,
      pastTheEdge: [...document.querySelectorAll('main *')]
        .filter((e) => !e.closest('.table-scroll') && e.getBoundingClientRect().right > window.innerWidth)
        .map((e) => e.tagName + (e.className && typeof e.className === 'string' ? '.' + e.className : ''))
        .slice(0, 5),
    }))()`);
    t.deepEqual(phone, { overflow: 0, levelColumns: 1, pastTheEdge: [] });
    t.deepEqual(problems, [], 'no problem on the phone either');

    // On the gateway, with and without the trailing slash: the charts' scripts are found either way.
    for (const path of ['/function/status/', '/function/status']) {
      await page.goto(`${rt.gatewayUrl}${path}`, { waitUntil: 'networkidle0' });
      await page.waitForSelector('[data-chart="ingestion"] svg', { timeout: 30_000 });
      t.deepEqual(problems, [], `no problem at ${path} on the gateway either`);
    }
  },
);
