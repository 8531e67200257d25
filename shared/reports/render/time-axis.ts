// The time axis of the charts over a report's period: real instants, ticked and labelled in the report's zone.
// Instants shifted by the zone's offset (the axis before) put a repeated hour — Havana's midnight of
// 2026-11-01, New York's 01:00 that day — at zero width, its bar under the next, and a day starting at 01:00
// (Santiago's 2026-09-06, midnight skipped) ticked at 01:00 of every day of its week. On real instants a day of
// 25 hours has 25 bars of one width and a day of 23 has 23; the labels are the zone's, as the tables write them.
import { localDate, utcOffsetMinutes } from '../../aggregate/index.ts';
import type { ReportDocument } from '../model.ts';
import { localDateOf, localDaysBetween, localMidnightDaysAfter } from '../period.ts';

export interface Tick {
  /** Epoch ms. */
  at: number;
  label: string;
}

export interface PeriodAxis {
  /** The period's start and end, epoch ms. */
  domain: [number, number];
  ticks: Tick[];
  /** Vega-Lite axis properties placing the ticks and writing their labels. */
  axis: { values: number[]; labelExpr: string };
}

const MINUTE_MS = 60_000;
/** Ticks of a time-of-day axis fall on local times 5 minutes apart at the finest (offsets are quarter hours). */
const GRAIN_MS = 5 * MINUTE_MS;
/** Steps of a time-of-day axis in minutes, each dividing a day; the finest giving few enough ticks is taken. */
const TIME_STEPS = [5, 10, 15, 30, 60, 120, 180, 360, 720];
/** A period of more local dates than this is ticked every 7th day (1, 8, 15, 22, 29 of a month). */
const DAILY_TICKS_UP_TO_DAYS = 10;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/** The first instant of each local date from the start's to the end's (every 7th in a month), as "06 Sep". */
function dateTicks(start: number, end: number, zone: string, days: number): Tick[] {
  const step = days > DAILY_TICKS_UP_TO_DAYS ? 7 : 1;
  const ticks: Tick[] = [];
  for (let day = 0; day <= days; day += step) {
    const at = localMidnightDaysAfter(new Date(start), day, zone);
    if (at.getTime() > end) break;
    const date = localDateOf(at, zone);
    ticks.push({ at: at.getTime(), label: `${two(date.d)} ${MONTHS[date.m - 1]}` });
  }
  return ticks;
}

/**
 * Local times on a step from the period's start to its end, as "03:00": the start always (01:00 where the
 * day's midnight is skipped), a repeated wall time once (at its first occurrence), and an end that starts a
 * new local date as 24:00, as the tables' To column writes it.
 */
function timeTicks(start: number, end: number, zone: string, maxTicks: number): Tick[] {
  const minutes = (end - start) / MINUTE_MS;
  const step = TIME_STEPS.find((s) => Math.floor(minutes / s) + 1 <= maxTicks) ?? TIME_STEPS.at(-1)!;
  const ticks: Tick[] = [];
  let latestWall = -Infinity;
  for (let at = Math.ceil(start / GRAIN_MS) * GRAIN_MS; at <= end; at += GRAIN_MS) {
    const wall = at + utcOffsetMinutes(zone, new Date(at)) * MINUTE_MS;
    const repeated = wall <= latestWall;
    latestWall = Math.max(latestWall, wall);
    if (repeated || (at !== start && Math.round(wall / MINUTE_MS) % step !== 0)) continue;
    const time = new Date(wall);
    const label =
      at === end && localDate(end - 1, zone) !== localDate(end, zone)
        ? '24:00'
        : `${two(time.getUTCHours())}:${two(time.getUTCMinutes())}`;
    ticks.push({ at, label });
  }
  return ticks;
}

/**
 * The axis over the report's period, not over the hours that have data: one hour of a week drawn alone filled
 * the width and was labelled 23:00–00:00. A period of more than a day is ticked at each local date's first
 * instant (every 7th date of a month: a tick on every one would not fit), a day or an hour by time of day, at
 * most `maxTicks` of them.
 */
export function periodAxis(doc: ReportDocument, maxTicks = 10): PeriodAxis {
  const zone = doc.period.time_zone;
  const start = Date.parse(doc.period.start);
  const end = Date.parse(doc.period.end);
  const days = localDaysBetween(new Date(start), new Date(end), zone);
  // a day of 23 or 25 hours is still one day
  const ticks = days > 1 ? dateTicks(start, end, zone, days) : timeTicks(start, end, zone, maxTicks);
  const labels = JSON.stringify(Object.fromEntries(ticks.map((t) => [String(t.at), t.label])));
  return {
    domain: [start, end],
    ticks,
    // a temporal axis hands its label a Date: time() is its epoch ms
    axis: { values: ticks.map((t) => t.at), labelExpr: `${labels}['' + time(datum.value)] || ''` },
  };
}
