// Small pieces of markup the dashboard's sections share: a time with its distance from now, a status badge,
// text that may break inside a long setting.
import { relative, utcTime } from './format.ts';
import { html, type SafeHtml } from './html.ts';

/** "28 Nov 10:05 UTC (5 min ago)"; a dash for no time. */
export function time(iso: string | null, now: Date, withRelative = true): SafeHtml {
  if (iso === null) return html`<span class="muted">—</span>`;
  return html`<time datetime="${iso}">${utcTime(iso, now)}</time>${
      withRelative ? html` <span class="muted">(${relative(iso, now)})</span>` : ''
    }`;
}

/** A status word on its colour (the word carries the meaning; the colour repeats it). */
export function badge(status: string): SafeHtml {
  return html`<span class="badge badge-${status}">${status.replace('_', ' ')}</span>`;
}

/**
 * Text that may also break after each `=` and `_`: a setting such as `NAME_OF_IT=requests=<requests/h …>` is
 * one word to the browser, which a narrow card would otherwise cut at an arbitrary letter.
 */
export function breakableSettings(text: string): SafeHtml {
  return html`${text.split(/(?<=[=_])/).map((piece, i) => (i === 0 ? piece : html`<wbr />${piece}`))}`;
}
