// The dashboard's retention section: the last sweep and the next, how long each kind of data is kept, what is
// archived (raw days, aggregate and report months, as ranges), what failed, and storage usage against the
// quotas — all from retentionStatus(), the call behind GET /retention/status.
import type { ArchivedRange, RetentionStatus } from '../../retention/status.ts';
import { bytes, count, percent } from './format.ts';
import { html, type SafeHtml } from './html.ts';
import { badge, time } from './parts.ts';

const LEVEL_WORD: Record<string, string> = { hour: 'hourly', day: 'daily', week: 'weekly', month: 'monthly' };

/** A storage share at or past this is shown as full (the DataRetentionStorageFull alert's threshold). */
const FULL_RATIO = 0.9;

/** "365 d" when every level keeps as long, else "hourly 90 d, daily 365 d, …". */
function aggregateDays(days: RetentionStatus['policy']['aggregateDays']): string {
  const entries = Object.entries(days);
  if (new Set(entries.map(([, d]) => d)).size === 1) return `${entries[0]?.[1] ?? '?'} d`;
  return entries.map(([level, d]) => `${LEVEL_WORD[level] ?? level} ${d} d`).join(', ');
}

function range(r: ArchivedRange, unit: string): SafeHtml {
  return html`<div>
    ${r.from === r.to ? r.from : `${r.from} – ${r.to}`}
    <span class="muted"
      >(${count(r.units)} ${unit}${r.units === 1 ? '' : 's'} · ${count(r.rows)} rows ·
      ${bytes(r.bytes)})</span
    >
  </div>`;
}

function archivedList(status: RetentionStatus): SafeHtml {
  const rows: Array<[string, readonly ArchivedRange[], string]> = [
    ['raw events', status.archived.raw, 'day'],
    ...Object.entries(status.archived.aggregate).map(
      ([level, ranges]): [string, readonly ArchivedRange[], string] => [
        `${LEVEL_WORD[level] ?? level} aggregates`,
        ranges,
        'month',
      ],
    ),
    ['reports', status.archived.reports, 'month'],
  ];
  const shown = rows.filter(([, ranges]) => ranges.length > 0);
  if (shown.length === 0)
    return html`<p class="muted" data-field="archived">
      Nothing archived yet: no data is past its retention.
    </p>`;
  return html`<dl data-field="archived">
    ${shown.map(
      ([title, ranges, unit]) =>
        html`<dt>${title}</dt>
          <dd>${ranges.map((r) => range(r, unit))}</dd>`,
    )}
  </dl>`;
}

function usage(store: string, f: { bytes: number; quota: number; ratio: number }): SafeHtml {
  return html`<div class="usage" data-store="${store}">
    <div>
      ${store} <strong>${bytes(f.bytes)}</strong>
      <span class="muted">of ${bytes(f.quota)} (<span data-field="ratio">${percent(f.ratio)}</span> %)</span>
    </div>
    <div class="bar">
      <span
        class="${f.ratio >= FULL_RATIO ? 'full' : ''}"
        style="width: ${Math.min(100, Math.round(f.ratio * 1000) / 10)}%"
      ></span>
    </div>
  </div>`;
}

function failedUnits(status: RetentionStatus, now: Date): SafeHtml {
  if (status.failed.length === 0) return html``;
  return html`<ul class="failures" data-field="failed">
    ${status.failed.map(
      (f) =>
        html`<li>
          <div><strong>${f.kind} ${f.unit}</strong> · ${f.attempts} attempts · ${time(f.at, now)}</div>
          <div class="error"><code>${f.errorCode ?? 'ERROR'}</code> ${f.error ?? ''}</div>
        </li>`,
    )}
  </ul>`;
}

export function retentionSection(status: RetentionStatus, now: Date): SafeHtml {
  const last = status.lastSweep;
  const p = status.policy;
  return html`<section id="retention" class="card" data-available="true">
    <h2>Retention</h2>
    <div class="grid3">
      <dl>
        <dt>Last sweep</dt>
        <dd data-field="last-sweep">
          ${
            last
              ? html`${time(last.startedAt, now)} · ${badge(last.status)} · ${last.trigger}`
              : html`<span class="muted">never</span>`
          }
        </dd>
        <dt>Last success</dt>
        <dd data-field="last-success">${time(status.lastSuccess, now)}</dd>
        <dt>Next sweep</dt>
        <dd data-field="next-sweep">${time(status.nextSweep, now)}</dd>
        <dt>Kept</dt>
        <dd data-field="policy">
          raw events ${p.rawDays} d · aggregates ${aggregateDays(p.aggregateDays)} · reports ${p.reportsDays}
          d · dead letters ${p.deadLetterDays} d · runs ${p.runsDays} d
        </dd>
        <dt>Archive</dt>
        <dd>
          ${
            p.archival
              ? html`<code>${status.location}</code>`
              : html`<span class="bad">off: data past retention is deleted without a copy</span>`
          }
        </dd>
      </dl>
      ${archivedList(status)}
      <div>${usage('database', status.storage.database)} ${usage('archive', status.storage.archive)}</div>
    </div>
    ${last?.error ? html`<p class="error"><code>${last.error.code}</code> ${last.error.message}</p>` : ''}
    ${failedUnits(status, now)}
    <p class="muted">
      All of it: <a href="/retention/status">/retention/status</a> · bring days back with
      <code>POST /retention/restore {"from": "…", "to": "…"}</code>
    </p>
  </section>`;
}
