// The web dashboard (GET / of the status function; http://127.0.0.1:9101/ under the local runtime): one
// server-rendered HTML page from dashboardData(), charts drawn in the browser by vega-embed from the status
// function's own copies of the libraries (./ui/…, no CDN). Links are relative, so the page works at 9101/
// and at the gateway's /function/status/ alike. It reloads itself every minute.
import { PERIODS, type Period, type PeriodStatus } from '../aggregation-status.ts';
import type { RunView } from '../runs.ts';
import type { DeadLetterView } from '../../ingest/index.ts';
import type { ReportRow } from '../../reports/store/reports-sql.ts';
import { DASHBOARD_ASSETS } from './assets.ts';
import { capacitySection } from './capacity-section.ts';
import { capacityChart, ingestionChart, rejectedChart } from './charts.ts';
import type { DashboardData } from './data.ts';
import { bytes, count, duration, runDuration } from './format.ts';
import { html, jsonIsland, raw, type SafeHtml } from './html.ts';
import { badge, time } from './parts.ts';
import { retentionSection } from './retention-section.ts';
import { DASHBOARD_CSS } from './style.ts';

export const REFRESH_SECONDS = 60;

const PERIOD_TITLE: Record<Period, string> = {
  hourly: 'Hourly',
  daily: 'Daily',
  weekly: 'Weekly',
  monthly: 'Monthly',
};

/**
 * How far a level is behind: from the end of the oldest ended period still waiting, never from the end of the
 * last completed one (the period after it may not have ended: a day completed up to midnight is up to date).
 */
function lagText(lagSeconds: number): SafeHtml {
  const title = 'since the end of the oldest ended period whose data is not aggregated yet';
  return html`<span class="muted" data-field="lag" title="${title}"
    >(${lagSeconds === 0 ? 'up to date' : `${duration(lagSeconds * 1000)} behind`})</span
  >`;
}

function periodCard(period: Period, p: PeriodStatus, dirty: number, now: Date): SafeHtml {
  const run = p.lastRun;
  return html`<article class="card period" data-period="${period}">
    <header>
      <h3>${PERIOD_TITLE[period]}</h3>
      ${badge(p.status)}
    </header>
    <dl>
      <dt>Last run</dt>
      <dd data-field="last-run">
        ${run ? html`${time(run.startedAt, now)} · ${run.status} · ${run.trigger}` : html`<span class="muted">never</span>`}
      </dd>
      <dt>Last window</dt>
      <dd data-field="last-window">
        ${
          p.lastWindow
            ? html`${time(p.lastWindow.start, now, false)} · ${p.lastWindow.status}`
            : html`<span class="muted">none</span>`
        }
      </dd>
      <dt>Complete up to</dt>
      <dd data-field="fresh-to">
        ${
          p.newestCompletedBucketEnd
            ? html`${time(p.newestCompletedBucketEnd, now, false)} ${lagText(p.lagSeconds)}`
            : html`<span class="muted">nothing yet</span> ${p.lagSeconds > 0 ? lagText(p.lagSeconds) : ''}`
        }
      </dd>
      <dt>Windows</dt>
      <dd data-field="windows">
        <span data-field="dirty">${dirty}</span> waiting ·
        <span data-field="failing" class="${p.failingWindows > 0 ? 'bad' : ''}">${p.failingWindows}</span>
        failing
      </dd>
      <dt>Next run</dt>
      <dd data-field="next-run">${time(p.nextRun, now)} <code>${p.schedule}</code></dd>
    </dl>
    ${run?.error ? html`<p class="error"><code>${run.error.code ?? ''}</code> ${run.error.message}</p>` : ''}
  </article>`;
}

function windowText(run: RunView, now: Date): SafeHtml {
  // The ledger's row for an invocation as a whole; its window attempts have rows of their own.
  if (!run.window)
    return html`<span
      class="muted"
      title="the invocation as a whole; each window it worked has a row of its own"
      >invocation</span
    >`;
  return time(run.window.start, now, false);
}

function runRows(runs: RunView[], now: Date): SafeHtml {
  if (runs.length === 0)
    return html`<tr>
      <td colspan="7" class="muted">No runs yet.</td>
    </tr>`;
  return html`${runs.map(
    (r) =>
      html`<tr data-run-id="${r.id}">
        <td class="num">${r.id}</td>
        <td>${r.job}</td>
        <td>${r.trigger}</td>
        <td>${windowText(r, now)}</td>
        <td>${badge(r.status)}</td>
        <td class="num">${runDuration(r.durationMs)}</td>
        <td class="num">
          ${r.rowsIn === null ? '' : count(r.rowsIn)}${r.rowsOut === null ? '' : ` → ${count(r.rowsOut)}`}
        </td>
      </tr>`,
  )}`;
}

function failureList(failures: RunView[], now: Date): SafeHtml {
  if (failures.length === 0) return html`<p class="muted">No failed runs.</p>`;
  return html`<ul class="failures">
    ${failures.map(
      (r) =>
        html`<li data-run-id="${r.id}">
          <div><strong>${r.job}</strong> · run ${r.id} · ${time(r.startedAt, now)}</div>
          <div class="error"><code>${r.error?.code ?? 'ERROR'}</code> ${r.error?.message ?? ''}</div>
        </li>`,
    )}
  </ul>`;
}

function source(letter: DeadLetterView): SafeHtml {
  if (!letter.source) return html`${letter.origin}`;
  const s = letter.source;
  return html`<code>${s.topic}</code> p${s.partition} @${s.offset}`;
}

function payloadPreview(letter: DeadLetterView): string {
  const text = letter.payload.encoding === 'utf8' ? letter.payload.data : `base64:${letter.payload.data}`;
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}

function deadLetterRows(letters: DeadLetterView[], now: Date): SafeHtml {
  if (letters.length === 0)
    return html`<tr>
      <td colspan="4" class="muted">No dead letters.</td>
    </tr>`;
  return html`${letters.map(
    (l) =>
      html`<tr data-dead-letter-id="${l.id}">
        <td>${time(l.receivedAt, now)}</td>
        <td>
          <code>${l.reason.code}</code>
          <div class="reason">${l.reason.message}</div>
        </td>
        <td>
          ${source(l)}${l.replay.outcome ? html`<div class="muted">replay: ${l.replay.outcome}</div>` : ''}
        </td>
        <td><code class="payload">${payloadPreview(l)}</code></td>
      </tr>`,
  )}`;
}

function reportRows(reports: ReportRow[], now: Date): SafeHtml {
  if (reports.length === 0) {
    return html`<tr>
      <td colspan="7" class="muted">
        No reports yet: they follow each closed period, or
        <code>POST /reports/generate {"report_type": "daily_summary", "format": "pdf"}</code>.
      </td>
    </tr>`;
  }
  return html`${reports.map(
    (r) =>
      html`<tr data-report-id="${r.id}">
        <td>${r.report_type}</td>
        <td>${r.period_label ?? r.period_start.toISOString().slice(0, 10)}</td>
        <td>${r.format}</td>
        <td>
          ${badge(r.status)}${r.error ? html`<div class="reason">${r.error_code}: ${r.error}</div>` : ''}
        </td>
        <td class="num">${bytes(r.size_bytes)}</td>
        <td>${time(r.created_at.toISOString(), now)}</td>
        <td>
          ${r.location && r.status === 'stored' ? html`<a href="/reports/${r.id}/download" download>download</a>` : ''}
        </td>
      </tr>`,
  )}`;
}

function lagSummary(lag: DashboardData['ingestion']['lag']): SafeHtml {
  if (lag === null) return html`<span class="muted">Kafka not configured (HTTP ingestion)</span>`;
  if (lag === 'unavailable') return html`<span class="bad">Kafka did not answer</span>`;
  const total = lag.reduce((n, p) => n + p.lag, 0);
  return html`<span data-field="kafka-lag">${count(total)}</span> records behind over ${lag.length} partitions`;
}

/** The chart islands of the page: [name, Vega-Lite spec], drawn into [data-chart="<name>"]. */
function chartsOf(data: DashboardData): Array<[string, object]> {
  const charts: Array<[string, object]> = [
    ['ingestion', ingestionChart(data)],
    ['rejected', rejectedChart(data)],
  ];
  for (const a of data.capacity?.analyses ?? []) {
    const spec = capacityChart(a);
    if (spec) charts.push([`capacity-${a.resource}`, spec]);
  }
  return charts;
}

export function renderDashboard(data: DashboardData): string {
  const now = data.generatedAt;
  const charts = chartsOf(data);
  const dayAgo = now.getTime() - 24 * 3_600_000;
  const events24h = data.ingestion.perHour
    .filter((r) => Date.parse(r.hour) >= dayAgo)
    .reduce((n, r) => n + r.events, 0);
  const rejected24h = data.ingestion.rejectedPerHour
    .filter((r) => Date.parse(r.hour) >= dayAgo)
    .reduce((n, r) => n + r.rejected, 0);
  const checks = Object.entries(data.health.checks);
  const page = html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta http-equiv="refresh" content="${REFRESH_SECONDS}" />
        <title>hxp-batch · batch processing</title>
        <link rel="icon" href="data:," />
        <style>
          ${raw(DASHBOARD_CSS)}
        </style>
      </head>
      <body>
        <header class="top">
          <div>
            <h1>hxp-batch <span class="muted">batch processing</span></h1>
            <p class="muted">
              Generated ${time(now.toISOString(), now, false)} · reloads every ${REFRESH_SECONDS} s · times in
              UTC · aggregation zone <code>${data.timeZone}</code>
            </p>
          </div>
          <ul class="health" data-status="${data.health.status}">
            ${checks.map(
              ([name, c]) =>
                html`<li
                  class="${c.status === 'healthy' ? 'ok' : 'bad'}"
                  data-check="${name}"
                  title="${c.error ? `${c.error.code}: ${c.error.message}` : `${c.latencyMs} ms`}"
                >
                  ${name} ${c.status === 'healthy' ? '✓' : '✗'}
                </li>`,
            )}
          </ul>
        </header>
        <main>
          <section id="aggregation">
            <h2>Aggregation</h2>
            <div class="grid4">
              ${PERIODS.map((p) => periodCard(p, data.aggregation.periods[p], data.dirtyWindows[p], now))}
            </div>
          </section>

          <section id="ingestion" class="card">
            <h2>Ingestion</h2>
            <ul class="figures">
              <li>
                <span class="figure" data-field="events-24h">${count(events24h)}</span> events aggregated in
                the last 24 h
              </li>
              <li>
                <span class="figure ${rejected24h > 0 ? 'bad' : ''}" data-field="rejected-24h"
                  >${count(rejected24h)}</span
                >
                rejected in the last 24 h
              </li>
              <li>
                <span class="figure" data-field="dead-letters-pending"
                  >${count(data.deadLetters.pending)}</span
                >
                dead letters not replayed
              </li>
              <li>${lagSummary(data.ingestion.lag)}</li>
            </ul>
            <div class="chart" data-chart="ingestion" data-empty="No events in this period."></div>
            <div class="chart" data-chart="rejected" data-empty="No event rejected in this period."></div>
          </section>

          <div class="grid2">
            <section id="runs" class="card">
              <h2>Recent runs</h2>
              <div class="table-scroll">
                <table>
                  <thead>
                    <tr>
                      <th class="num">run</th>
                      <th>job</th>
                      <th>trigger</th>
                      <th>window</th>
                      <th>status</th>
                      <th class="num">took</th>
                      <th class="num">rows in → out</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${runRows(data.runs, now)}
                  </tbody>
                </table>
              </div>
            </section>
            <section id="failures" class="card">
              <h2>Failures</h2>
              ${failureList(data.failures, now)}
            </section>
          </div>

          <section id="dead-letters" class="card">
            <h2>Recent dead letters</h2>
            <div class="table-scroll">
              <table>
                <thead>
                  <tr>
                    <th>received</th>
                    <th>reason</th>
                    <th>source</th>
                    <th class="payload-col">payload</th>
                  </tr>
                </thead>
                <tbody>
                  ${deadLetterRows(data.deadLetters.recent, now)}
                </tbody>
              </table>
            </div>
            <p class="muted">
              All of them: <a href="dead-letters">dead-letters</a> (JSON,
              <code>?reason=&amp;from=&amp;to=&amp;cursor=</code>); replay with
              <code>POST dead-letters/replay {"ids": […]}</code>.
            </p>
          </section>

          <section id="reports" class="card">
            <h2>Reports</h2>
            <div class="table-scroll">
              <table>
                <thead>
                  <tr>
                    <th>type</th>
                    <th>period</th>
                    <th>format</th>
                    <th>status</th>
                    <th class="num">size</th>
                    <th>created</th>
                    <th></th>
                  </tr>
                </thead>
                <tbody>
                  ${reportRows(data.reports, now)}
                </tbody>
              </table>
            </div>
            <p class="muted">
              All of them: <a href="/reports/list">/reports/list</a> · per type:
              <a href="/reports/status">/reports/status</a>
            </p>
          </section>

          ${capacitySection(data.capacity, now)}
          ${
            data.retention
              ? retentionSection(data.retention, now)
              : html`<section id="retention" class="card" data-available="false">
                  <h2>Retention</h2>
                  <p class="muted">
                    Not reported: this status function was started without the retention settings.
                  </p>
                </section>`
          }
        </main>
        <footer class="muted">
          JSON: <a href="health">health</a> · <a href="aggregation/status">aggregation/status</a> ·
          <a href="runs">runs</a> · <a href="dead-letters">dead-letters</a> · <a href="metrics">metrics</a>
        </footer>
        ${charts.map(
          ([name, spec]) =>
            html`<script type="application/json" id="chart-${name}">
              ${jsonIsland(spec)}
            </script>`,
        )}
        <script>
          ${raw(EMBED_SCRIPT)};
          ${raw(loaderScript(Object.keys(DASHBOARD_ASSETS)))};
        </script>
      </body>
    </html> `;
  return page.value;
}

// Draws every [data-chart] element from its JSON island; a chart that fails says so in its place. An empty
// chart says what is missing (its data-empty): under the ingestion chart, a bare "no data" read as if it
// spoke of the events drawn just above.
const EMBED_SCRIPT = `
function drawCharts() {
  for (const el of document.querySelectorAll('[data-chart]')) {
    const spec = JSON.parse(document.getElementById('chart-' + el.dataset.chart).textContent);
    if (spec.data.values.length === 0) { el.textContent = el.dataset.empty || 'No data in this period.'; el.classList.add('empty'); continue; }
    vegaEmbed(el, spec, { mode: 'vega-lite', actions: false, renderer: 'svg' }).catch((err) => { el.textContent = 'Chart failed: ' + err.message; });
  }
}`;

// The chart scripts are served from ui/ beside the page: at the API root, at /function/status/ on a gateway,
// and at /function/status — where a plain relative ui/ would mean /function/ui/, which no one serves. The
// function cannot tell the last two apart (the gateway strips its prefix), so the page finds its folder
// itself and loads them from there, in order (async = false), drawing once the last has run.
function loaderScript(files: string[]): string {
  return `
(() => {
  const path = location.pathname;
  const folder = path.endsWith('/') ? '' : path.slice(path.lastIndexOf('/') + 1) + '/';
  const files = ${JSON.stringify(files)};
  for (const [i, file] of files.entries()) {
    const script = document.createElement('script');
    script.src = folder + 'ui/' + file;
    script.async = false;
    if (i === files.length - 1) script.onload = drawCharts;
    document.body.append(script);
  }
})()`;
}
