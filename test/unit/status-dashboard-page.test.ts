// The web dashboard's HTML from fixed data: everything from the database is escaped, the chart islands
// cannot close their <script>, capacity cards say when a resource crosses its threshold, and the page
// loads its libraries from the status function, nowhere else.
import test from 'ava';
import type { CapacityAnalysis } from '../../shared/capacity/types.ts';
import type { RetentionStatus } from '../../shared/retention/index.ts';
import type { DashboardData } from '../../shared/status/dashboard/data.ts';
import { escapeHtml, html } from '../../shared/status/dashboard/html.ts';
import { renderDashboard } from '../../shared/status/dashboard/page.ts';
import { capacityChart, dailyPeaks } from '../../shared/status/dashboard/charts.ts';

const NOW = new Date('2026-11-28T10:20:00Z');

function period(status: 'completed' | 'failed' | 'scheduled' | 'running', lagSeconds = 0) {
  return {
    status,
    job: 'aggregate-hour',
    schedule: '0 * * * *',
    lastWindow: null,
    lastRun:
      status === 'scheduled'
        ? null
        : {
            id: 7,
            status: status === 'failed' ? 'failed' : 'succeeded',
            trigger: 'cron',
            startedAt: '2026-11-28T10:00:00.000Z',
            finishedAt: '2026-11-28T10:00:01.000Z',
            error: status === 'failed' ? { code: 'WINDOW_FAILED', message: 'boom <b>bold</b>' } : null,
          },
    freshnessSeconds: 1200,
    lagSeconds,
    newestCompletedBucketEnd: '2026-11-28T10:00:00.000Z',
    failingWindows: status === 'failed' ? 1 : 0,
    nextRun: '2026-11-28T11:00:00.000Z',
  };
}

function analysis(resource: 'gpu' | 'disk', days: number | null): CapacityAnalysis {
  return {
    resource,
    series: 'fleet',
    unit: '%',
    status: 'ok',
    reason: null,
    threshold: 80,
    threshold_percent: 80,
    limit: 100,
    hosts: 2,
    history: {
      start: '2026-11-21T00:00:00Z',
      end: '2026-11-28T10:00:00Z',
      hours: 178,
      observed_hours: 178,
      filled_hours: 0,
      outlier_count: 0,
      outliers: [],
      last_observed_at: '2026-11-28T09:00:00Z',
    },
    utilization: {
      mean: 60,
      p95: 79.3,
      max: 88,
      peak_hour: 14,
      peak_weekday: 'Tue',
      headroom: 0.7,
      ratio: 0.793,
    },
    growth_per_week: 1,
    seasonality: { daily: 0.8, weekly: null },
    forecast: {
      model: 'mstl',
      periods: [24, 168],
      fallback_reason: null,
      horizon_hours: 720,
      calibration: 'conformal',
      peak: { value: 91, timestamp: '2026-12-03T14:00:00Z' },
      backtest: null,
      points: Array.from({ length: 720 }, (_, i) => ({
        timestamp: new Date(Date.parse('2026-11-28T10:00:00Z') + i * 3_600_000).toISOString(),
        value: 60 + (i % 24),
        lo80: 50,
        hi80: 90,
        lo95: 45,
        hi95: 95 + (i === 500 ? 4 : 0),
      })),
    },
    days_to_threshold: days === null ? null : { point: days, earliest: days - 1, latest: days + 1 },
    crossing_at: days === null ? null : '2026-12-07T14:00:00Z',
    threshold_crossing: null,
    days_to_limit: null,
    limit_crossing: null,
    alert: days !== null,
    recommendations: [
      { action: 'scale_up', text: 'gpu: 3 hosts keep it at 61 %', current: 2, recommended: 3 },
    ],
  };
}

function data(overrides: Partial<DashboardData> = {}): DashboardData {
  return {
    generatedAt: NOW,
    timeZone: 'UTC',
    health: { status: 'healthy', service: 'batch-processing-api', timestamp: NOW.toISOString(), checks: {} },
    aggregation: {
      timestamp: NOW.toISOString(),
      timeZone: 'UTC',
      periods: {
        hourly: period('completed'),
        daily: period('failed'),
        weekly: period('running'),
        monthly: period('scheduled'),
      },
    },
    dirtyWindows: { hourly: 0, daily: 2, weekly: 0, monthly: 0 },
    runs: [],
    failures: [],
    ingestion: {
      since: new Date('2026-11-26T10:00:00Z'),
      until: new Date('2026-11-28T11:00:00Z'),
      perHour: [
        { hour: '2026-11-28T09:00:00.000Z', eventType: 'llm_request</script><script>x()', events: 5 },
      ],
      rejectedPerHour: [],
      lag: null,
    },
    deadLetters: { recent: [], pending: 0 },
    reports: [],
    capacity: undefined,
    retention: undefined,
    ...overrides,
  };
}

test('html`` escapes what it interpolates and nests markup', (t) => {
  t.is(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  t.is(
    html`<p>${'<b>'}${html`<i>${'&'}</i>`}${[1, null, false, undefined, 2]}</p>`.value,
    '<p>&lt;b&gt;<i>&amp;</i>12</p>',
  );
});

test('database text is escaped and a chart island cannot close its script element', (t) => {
  const page = renderDashboard(data());
  t.true(page.includes('boom &lt;b&gt;bold&lt;/b&gt;'));
  t.false(page.includes('<b>bold</b>'));
  t.false(page.includes('llm_request</script>'));
  t.true(page.includes('llm_request\\u003c/script>'));
  // the chart scripts, loaded in this order from ui/ beside the page (the loader finds the page's folder)
  t.notRegex(page, /<script src=/);
  t.true(page.includes('const files = ["vega.min.js","vega-lite.min.js","vega-embed.min.js"]'));
  t.notRegex(page, /https?:\/\/(?!127\.0\.0\.1)[a-z]/i, 'no absolute link to anywhere');
});

test('an empty chart says what it lacks: no event rejected, not a bare "no data" under the events drawn above', (t) => {
  const page = renderDashboard(data());
  t.regex(page, /data-chart="rejected" data-empty="No event rejected in this period\."/);
  t.regex(page, /data-chart="ingestion" data-empty="No events in this period\."/);
  t.regex(page, /el\.textContent = el\.dataset\.empty \|\| 'No data in this period\.'/);
});

test('on a phone: every table scrolls inside its card, and a long setting may break after its = and _', (t) => {
  const page = renderDashboard(data());
  const tables = page.match(/<table>/g) ?? [];
  t.is(tables.length, 3, 'runs, dead letters, reports');
  t.is((page.match(/<div class="table-scroll">\s*<table>/g) ?? []).length, tables.length);
  t.regex(page, /@media \(max-width: 720px\) \{ \.grid4 \{ grid-template-columns: minmax\(0, 1fr\); \}/);
  const gpu = analysis('gpu', null);
  const text = 'set BATCH_PROCESSING_CAPACITY_LIMITS=requests=<requests/h one replica handles>';
  const withSetting = renderDashboard(
    data({
      capacity: {
        generated_at: NOW.toISOString(),
        run_id: 3,
        data_end: '2026-11-28T10:00:00Z',
        forecasting: true,
        analyses: [
          { ...gpu, recommendations: [{ action: 'configure', text, current: null, recommended: null }] },
        ],
      },
    }),
  );
  t.true(
    withSetting.includes(
      'set BATCH_<wbr />PROCESSING_<wbr />CAPACITY_<wbr />LIMITS=<wbr />requests=<wbr />&lt;requests/h one',
    ),
  );
});

test('each level shows its state; a failed run shows its error', (t) => {
  const page = renderDashboard(data());
  for (const [p, s] of [
    ['hourly', 'completed'],
    ['daily', 'failed'],
    ['weekly', 'running'],
    ['monthly', 'scheduled'],
  ])
    t.regex(page, new RegExp(`data-period="${p}"[\\s\\S]*?badge-${s}`));
  t.regex(page, /<code>WINDOW_FAILED<\/code>/);
  t.regex(page, /<span data-field="dirty">2<\/span>/);
});

test('a level whose next period has not ended is up to date, not behind by the age of its last bucket', (t) => {
  // Complete up to 10:00 at 10:20: the 10:00 hour has not ended, so nothing waits (freshness 20 min, lag 0).
  const page = renderDashboard(
    data({
      aggregation: {
        timestamp: NOW.toISOString(),
        timeZone: 'UTC',
        periods: {
          hourly: period('completed'),
          daily: period('failed', 11 * 3600 + 20 * 60),
          weekly: period('completed'),
          monthly: period('completed'),
        },
      },
    }),
  );
  const lagOf = (p: string): string | undefined =>
    new RegExp(`data-period="${p}"[\\s\\S]*?data-field="lag"[^>]*>([^<]*)<`).exec(page)?.[1];
  t.is(lagOf('hourly'), '(up to date)');
  t.is(lagOf('daily'), '(11 h 20 min behind)');
  t.notRegex(page, /\(20 min behind\)/);
});

test('capacity: a card per fleet resource with its forecast chart and when it crosses', (t) => {
  const page = renderDashboard(
    data({
      capacity: {
        generated_at: NOW.toISOString(),
        run_id: 3,
        data_end: '2026-11-28T10:00:00Z',
        forecasting: true,
        analyses: [analysis('gpu', 9.2), analysis('disk', null)],
      },
    }),
  );
  t.regex(page, /data-resource="gpu"[\s\S]*?badge-failed"\s*>alert/);
  t.regex(page, /crosses 80 % in\s+<strong data-field="days-to-threshold">9\.2&nbsp;d<\/strong>/);
  t.regex(page, /data-resource="disk"[\s\S]*?stays under 80 % within the forecast/);
  const island = /<script type="application\/json" id="chart-capacity-gpu">([^<]*)<\/script>/.exec(page);
  t.truthy(island);
  const spec = JSON.parse(island![1]!) as { data: { values: unknown[] }; layer: unknown[] };
  t.is(spec.data.values.length, 7 * 24 + 23, 'the chart is the one capacityChart draws');
  t.is(spec.layer.length, 4, 'band, forecast, daily peaks and threshold');
  t.regex(renderDashboard(data()), /No capacity analysis yet/);
});

test('capacity: a 30-day forecast is drawn hour by hour for a week, then as each day’s peak at its hour', (t) => {
  // 720 hours from 28 Nov 10:00, value 60 + hour of the cycle: each 24 hours peak at their last.
  const spec = capacityChart(analysis('gpu', 9.2)) as {
    data: { values: Array<{ ts: string; value: number; hi95: number; kind: string }> };
  };
  const values = spec.data.values;
  const hourly = values.filter((v) => v.kind === 'hour');
  const peaks = values.filter((v) => v.kind === 'peak');
  t.is(hourly.length, 7 * 24, 'the first week, every hour');
  t.is(hourly[0]?.ts, '2026-11-28T10:00:00.000Z');
  t.is(hourly[23]?.ts, '2026-11-29T09:00:00.000Z');
  t.is(hourly[23]?.value, 60 + 23);
  t.is(hourly.at(-1)?.ts, '2026-12-05T09:00:00.000Z');
  t.is(peaks.length, (720 - 7 * 24) / 24, 'then a point per day');
  t.deepEqual(values.slice(7 * 24), peaks, 'the peaks follow the hours, in time order');
  // The first day after the week runs 5 Dec 10:00 to 6 Dec 09:00; its peak is its last hour, drawn there.
  t.like(peaks[0], { ts: '2026-12-06T09:00:00.000Z', value: 60 + 23 });
  t.like(peaks[1], { ts: '2026-12-07T09:00:00.000Z', value: 60 + 23 });
  t.is(Math.max(...peaks.map((v) => v.hi95)), 99, 'the highest upper bound of a day survives');
});

test('capacity: a forecast of a week or less is drawn hour by hour', (t) => {
  const points = [
    { timestamp: '2026-11-28T10:00:00Z', value: 70, lo80: 65, hi80: 75, lo95: 60, hi95: 80 },
    { timestamp: '2026-11-28T11:00:00Z', value: 72, lo80: 66, hi80: 78, lo95: 61, hi95: 83 },
  ];
  const a = analysis('gpu', 1);
  const spec = capacityChart({ ...a, forecast: { ...a.forecast!, horizon_hours: 2, points } });
  t.deepEqual((spec as { data: { values: unknown[] } }).data.values, [
    { ts: '2026-11-28T10:00:00Z', value: 70, lo95: 60, hi95: 80, kind: 'hour' },
    { ts: '2026-11-28T11:00:00Z', value: 72, lo95: 61, hi95: 83, kind: 'hour' },
  ]);
  t.is((spec as { layer: unknown[] }).layer.length, 3, 'band, forecast and threshold: no peaks');
  // Daily peaks keep whole 24-hour cycles only: the 6 hours past the first day are no point of their own;
  // the peak is drawn at its own hour, not at the start of its day.
  const hours = Array.from({ length: 30 }, (_, i) => ({
    timestamp: new Date(Date.parse('2026-11-28T10:00:00Z') + i * 3_600_000).toISOString(),
    value: i,
    lo80: 0,
    hi80: 0,
    lo95: i - 5,
    hi95: i === 3 ? 99 : i + 5,
  }));
  t.deepEqual(dailyPeaks(hours), [
    { ts: '2026-11-29T09:00:00.000Z', value: 23, lo95: 18, hi95: 99, kind: 'peak' },
  ]);
});

test('the recent runs name the invocation row of a run beside its window rows', (t) => {
  const run = {
    job: 'aggregate-day',
    trigger: 'cron',
    attempt: 1,
    status: 'succeeded',
    startedAt: '2026-11-28T00:00:00.000Z',
    finishedAt: '2026-11-28T00:00:01.000Z',
    durationMs: 1000,
    rowsIn: 10,
    rowsOut: 2,
    error: null,
  };
  const page = renderDashboard(
    data({
      runs: [
        { ...run, id: 2, window: { start: '2026-11-27T00:00:00.000Z', end: '2026-11-28T00:00:00.000Z' } },
        { ...run, id: 1, window: null },
      ],
    }),
  );
  t.regex(page, /data-run-id="2"[\s\S]*?<time datetime="2026-11-27T00:00:00.000Z">/);
  t.regex(
    page,
    /data-run-id="1"[\s\S]*?<span\s+class="muted"\s+title="the invocation as a whole[^"]*"\s*>invocation<\/span\s*>/,
  );
});

function retention(overrides: Partial<RetentionStatus> = {}): RetentionStatus {
  const range = (from: string, to: string, units: number) => ({
    from,
    to,
    units,
    rows: 1000 * units,
    bytes: 2048 * units,
  });
  return {
    policy: {
      rawDays: 30,
      aggregateDays: { hour: 365, day: 365, week: 365, month: 365 },
      reportsDays: 90,
      deadLetterDays: 30,
      runsDays: 90,
      dedupKeysDays: 32,
      restoredKeepDays: 7,
      archival: true,
    },
    cutoffs: {
      raw: '2026-10-29T10:20:00.000Z',
      aggregate: {},
      reports: '2026-08-30T10:20:00.000Z',
      deadLetters: '2026-10-29T10:20:00.000Z',
      runs: '2026-08-30T10:20:00.000Z',
      dedupKeys: '2026-10-27T10:20:00.000Z',
    },
    location: 's3://hxp-batch',
    lastSweep: {
      runId: 41,
      status: 'failed',
      trigger: 'cron',
      startedAt: '2026-11-28T02:00:00.000Z',
      finishedAt: '2026-11-28T02:00:09.000Z',
      error: { code: 'ARCHIVE_VERIFY_FAILED', message: 'raw/date=2026-10-27 <read back> differs' },
      details: {},
    },
    lastSuccess: '2026-11-27T02:00:08.000Z',
    nextSweep: '2026-11-29T02:00:00.000Z',
    archived: {
      raw: [range('2026-09-01', '2026-10-26', 56), range('2026-10-28', '2026-10-28', 1)],
      aggregate: { hour: [range('2025-10', '2025-10', 1)] },
      reports: [],
    },
    restored: [],
    failed: [
      {
        kind: 'raw',
        unit: '2026-10-27',
        attempts: 3,
        errorCode: 'ARCHIVE_VERIFY_FAILED',
        error: 'read back <differs>',
        at: '2026-11-28T02:00:09.000Z',
      },
    ],
    pending: [],
    storage: {
      database: { bytes: 3 * 1024 ** 3, quota: 10 * 1024 ** 3, ratio: 0.3 },
      archive: { bytes: 95 * 1024 ** 2, quota: 100 * 1024 ** 2, ratio: 0.95, byPrefix: {} },
    },
    ...overrides,
  } as RetentionStatus;
}

test('retention: the last sweep and its error, archived ranges, failed units and storage against the quotas', (t) => {
  const page = renderDashboard(data({ retention: retention() }));
  t.regex(page, /id="retention" class="card" data-available="true"/);
  t.regex(page, /data-field="last-sweep"[\s\S]*?28 Nov 02:00 UTC[\s\S]*?badge-failed[\s\S]*?cron/);
  t.regex(page, /data-field="next-sweep">\s*<time datetime="2026-11-29T02:00:00.000Z">/);
  t.regex(page, /raw events 30 d · aggregates 365 d · reports 90\s+d/);
  t.regex(page, /<code>s3:\/\/hxp-batch<\/code>/);
  t.regex(
    page,
    /<dt>raw events<\/dt>[\s\S]*?2026-09-01 – 2026-10-26[\s\S]*?\(56 days · 56,000 rows ·\s+112\.0 KiB\)/,
  );
  t.regex(page, /2026-10-28\s*<span class="muted"\s*>\(1 day · 1,000 rows/);
  t.regex(page, /<dt>hourly aggregates<\/dt>[\s\S]*?2025-10[\s\S]*?\(1 month /);
  t.notRegex(page, /<dt>reports<\/dt>/, 'no row for what has nothing archived');
  t.regex(page, /<code>ARCHIVE_VERIFY_FAILED<\/code> raw\/date=2026-10-27 &lt;read back&gt; differs/);
  t.regex(page, /<strong>raw 2026-10-27<\/strong> · 3 attempts/);
  t.regex(
    page,
    /data-store="database"[\s\S]*?3\.0 GiB[\s\S]*?of 10\.0 GiB \(<span data-field="ratio">30<\/span> %\)/,
  );
  t.regex(
    page,
    /data-store="archive"[\s\S]*?<span\s+class="full"\s+style="width: 95%"\s*>/,
    'at 90 % and past: full',
  );
});

test('retention: before any sweep, and with archival off', (t) => {
  const page = renderDashboard(
    data({
      retention: retention({
        lastSweep: null,
        lastSuccess: null,
        archived: { raw: [], aggregate: {}, reports: [] },
        failed: [],
        policy: {
          ...retention().policy,
          archival: false,
          aggregateDays: { hour: 90, day: 365, week: 365, month: 730 },
        },
        storage: {
          database: { bytes: 20 * 1024 ** 2, quota: 100 * 1024 ** 3, ratio: 20 / 102_400 },
          archive: { bytes: 0, quota: 1024 ** 4, ratio: 0, byPrefix: {} },
        },
      }),
    }),
  );
  t.regex(page, /data-field="last-sweep">\s*<span class="muted">never<\/span>/);
  t.regex(page, /Nothing archived yet: no data is past its retention/);
  t.regex(page, /off: data past retention is deleted without a copy/);
  t.regex(page, /aggregates hourly 90 d, daily 365 d, weekly 365 d, monthly 730 d/);
  t.regex(
    page,
    /20\.0 MiB<\/strong>\s*<span class="muted">of 100\.0 GiB \(<span data-field="ratio">&lt; 0\.1<\/span>/,
  );
  t.regex(page, /of 1\.0 TiB \(<span data-field="ratio">0<\/span> %\)/);
  t.regex(renderDashboard(data()), /id="retention" class="card" data-available="false"[\s\S]*?Not reported/);
});
