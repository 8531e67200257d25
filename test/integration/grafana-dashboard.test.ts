// The Grafana dashboard: generated from TypeScript (the committed JSON is what `npm run dashboards` writes),
// every panel query parses (promtool) and reads only metrics the code exposes or the recording rules record.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { parse, stringify } from 'yaml';
import { DASHBOARD_UID, renderBatchProcessingDashboard } from '../../scripts/dashboards/batch-processing.ts';
import { catalogueProblems, knownMetricNames } from '../helpers/metric-names.ts';
import { promqlMetricNames } from '../helpers/promql.ts';
import { binaryTest, requireBinary } from '../helpers/services.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Target {
  expr: string;
  refId: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { uid?: string };
  targets?: Target[];
}

async function committed(): Promise<{
  uid: string;
  panels: Panel[];
  templating: { list: Array<{ name: string }> };
}> {
  return JSON.parse(await readFile(join(ROOT, 'deploy/grafana/batch-processing.json'), 'utf8'));
}

/** Grafana's own variables as a query would see them once Grafana filled them in. */
function withGrafanaVariables(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('$__interval', '1m')
    .replaceAll('$__range', '1h');
}

async function recordedNames(): Promise<Set<string>> {
  const dir = join(ROOT, 'deploy/prometheus/rules');
  const names = new Set<string>();
  for (const file of await readdir(dir)) {
    const doc = parse(await readFile(join(dir, file), 'utf8')) as {
      groups: Array<{ rules: Array<{ record?: string }> }>;
    };
    for (const rule of doc.groups.flatMap((g) => g.rules)) if (rule.record) names.add(rule.record);
  }
  return names;
}

test('deploy/grafana/batch-processing.json is what `npm run dashboards` generates', async (t) => {
  t.is(
    await readFile(join(ROOT, 'deploy/grafana/batch-processing.json'), 'utf8'),
    renderBatchProcessingDashboard(),
  );
});

test("the dashboard has the original's panels and ours, each with an id, a description and the datasource variable", async (t) => {
  const dash = await committed();
  t.is(dash.uid, DASHBOARD_UID);
  t.deepEqual(
    dash.templating.list.map((v) => v.name),
    ['datasource'],
  );
  const panels = dash.panels.filter((p) => p.type !== 'row');
  t.is(new Set(dash.panels.map((p) => p.id)).size, dash.panels.length, 'unique panel ids');
  const titles = panels.map((p) => p.title);
  for (const title of [
    'Success rate (last run)',
    'Run duration',
    'Hourly aggregation',
    'Daily aggregation',
    'Weekly aggregation',
    'Monthly aggregation',
    'Report generation',
    'Events per second',
    'Kafka consumer lag',
    'Freshness and lag',
    'Dead letters',
    'Capacity forecast: days to threshold',
    'Storage usage',
  ])
    t.true(titles.includes(title), title);
  for (const panel of panels) {
    t.truthy(panel.description, `${panel.title}: description`);
    t.is(panel.datasource?.uid, '${datasource}', `${panel.title}: datasource variable`);
    const refIds = (panel.targets ?? []).map((q) => q.refId);
    t.true(refIds.length > 0, `${panel.title}: a query`);
    t.is(new Set(refIds).size, refIds.length, `${panel.title}: unique refIds`);
  }
});

test('every panel query reads only metrics the code exposes or the recording rules record', async (t) => {
  const known = knownMetricNames();
  const recorded = await recordedNames();
  for (const panel of (await committed()).panels) {
    for (const target of panel.targets ?? []) {
      const names = promqlMetricNames(withGrafanaVariables(target.expr));
      t.true(names.length > 0, `${panel.title}: ${target.expr}`);
      for (const name of names) t.true(known.has(name) || recorded.has(name), `${panel.title} reads ${name}`);
    }
  }
});

test('every panel query and legend assumes only types and labels its metrics have (catalogue)', async (t) => {
  const dir = join(ROOT, 'deploy/prometheus/rules');
  const recorded = new Map<string, string>();
  for (const file of await readdir(dir)) {
    const doc = parse(await readFile(join(dir, file), 'utf8')) as {
      groups: Array<{ rules: Array<{ record?: string; expr: string }> }>;
    };
    for (const rule of doc.groups.flatMap((g) => g.rules))
      if (rule.record) recorded.set(rule.record, rule.expr);
  }
  for (const panel of (await committed()).panels) {
    for (const target of (panel.targets ?? []) as Array<Target & { legendFormat?: string }>) {
      const legend = [...(target.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!);
      t.deepEqual(
        catalogueProblems(withGrafanaVariables(target.expr), recorded, legend),
        [],
        `${panel.title}: ${target.expr}`,
      );
    }
  }
});

binaryTest('promtool')('every panel query parses as PromQL (promtool check rules)', async (t) => {
  const rules = (await committed()).panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({
      record: `dashboard:panel_${panel.id}:${target.refId}`,
      expr: withGrafanaVariables(target.expr),
    })),
  );
  const dir = await mkdtemp(join(tmpdir(), 'hxp-grafana-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'panels.yml');
  await writeFile(file, stringify({ groups: [{ name: 'dashboard-queries', rules }] }));
  const { stdout } = await run(requireBinary('promtool')!, ['check', 'rules', file]);
  t.regex(stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
});

test('the provisioning files point Grafana at the dashboard folder and a Prometheus data source', async (t) => {
  const dashboards = parse(
    await readFile(join(ROOT, 'deploy/grafana/provisioning/dashboards/hxp-batch.yml'), 'utf8'),
  ) as { apiVersion: number; providers: Array<{ type: string; options: { path: string } }> };
  t.is(dashboards.apiVersion, 1);
  t.like(dashboards.providers[0], {
    type: 'file',
    options: { path: '/var/lib/grafana/dashboards/hxp-batch' },
  });
  const sources = parse(
    await readFile(join(ROOT, 'deploy/grafana/provisioning/datasources/prometheus.yml'), 'utf8'),
  ) as { datasources: Array<{ type: string; isDefault: boolean }> };
  t.like(sources.datasources[0], { type: 'prometheus', isDefault: true });
});
