// The dashboard's capacity section: per fleet resource of the newest analysis (analyze-capacity) a card with
// the forecast chart, p95 against the limit, when the forecast crosses the threshold, and the first
// recommendation.
import type { CapacityAnalysis, CapacityAnswer } from '../../capacity/types.ts';
import { count } from './format.ts';
import { html, type SafeHtml } from './html.ts';
import { breakableSettings, time } from './parts.ts';

/** "61.2 %", "1,840 requests/h": a figure in its resource's unit. */
function inUnit(value: number, unit: string): string {
  const text = Math.abs(value) >= 100 ? count(Math.round(value)) : String(Math.round(value * 10) / 10);
  return unit === '%' ? `${text} %` : `${text} ${unit}`;
}

function capacityCard(a: CapacityAnalysis, now: Date): SafeHtml {
  const days = a.days_to_threshold?.point ?? null;
  const state = a.status !== 'ok' ? a.status.replace('_', ' ') : a.alert ? 'alert' : 'ok';
  const crossing =
    a.threshold === null
      ? html`<span class="muted">no limit configured</span>`
      : days === null
        ? html`stays under ${inUnit(a.threshold, a.unit)} within the forecast`
        : html`crosses ${inUnit(a.threshold, a.unit)} in
            <strong data-field="days-to-threshold">${days.toFixed(1)}&nbsp;d</strong>
            (${time(a.crossing_at, now, false)})`;
  return html`<article class="capacity" data-resource="${a.resource}">
    <header>
      <h3>${a.resource}</h3>
      <span class="badge badge-${a.alert ? 'failed' : a.status === 'ok' ? 'completed' : 'scheduled'}"
        >${state}</span
      >
    </header>
    ${
      a.forecast?.points?.length
        ? html`<div class="chart" data-chart="capacity-${a.resource}"></div>`
        : html`<p class="muted">${a.reason ?? 'no forecast'}</p>`
    }
    <p>
      p95
      ${inUnit(a.utilization.p95, a.unit)}${
        a.utilization.ratio === null
          ? ''
          : html` <span class="muted">(${Math.round(a.utilization.ratio * 100)} % of the limit)</span>`
      }
      · ${crossing}
    </p>
    ${a.recommendations[0] ? html`<p class="muted">${breakableSettings(a.recommendations[0].text)}</p>` : ''}
  </article>`;
}

export function capacitySection(capacity: CapacityAnswer | undefined, now: Date): SafeHtml {
  if (!capacity) {
    return html`<section id="capacity" class="card">
      <h2>Capacity forecast</h2>
      <p class="muted">
        No capacity analysis yet: analyze-capacity runs once a day, or <code>POST /capacity/analysis</code>.
      </p>
    </section>`;
  }
  return html`<section id="capacity" class="card">
    <h2>Capacity forecast <span class="muted">fleet, analysed ${time(capacity.generated_at, now)}</span></h2>
    <p class="muted">
      Point forecast with its 95 % band: a week ahead hour by hour, then each day's peak (a dot at its hour);
      the dashed line is the threshold. Per host:
      <a href="/capacity/analysis">/capacity/analysis</a>
    </p>
    <div class="capacity-grid">${capacity.analyses.map((a) => capacityCard(a, now))}</div>
  </section>`;
}
