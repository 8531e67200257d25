// The alert and recording rules: promtool checks them and runs their unit tests (a firing and a quiet case
// for every alert); every alert says what to do; every metric they read is one the code exposes.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { parse } from 'yaml';
import { catalogueProblems, knownMetricNames } from '../helpers/metric-names.ts';
import { promqlMetricNames } from '../helpers/promql.ts';
import { binaryTest, requireBinary } from '../helpers/services.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROMETHEUS = join(ROOT, 'deploy/prometheus');
const promtoolTest = binaryTest('promtool');

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

async function ruleFiles(): Promise<string[]> {
  return (await readdir(join(PROMETHEUS, 'rules')))
    .filter((f) => f.endsWith('.yml'))
    .map((f) => join(PROMETHEUS, 'rules', f));
}

async function rules(): Promise<Rule[]> {
  const out: Rule[] = [];
  for (const file of await ruleFiles()) {
    const doc = parse(await readFile(file, 'utf8')) as { groups: Array<{ rules: Rule[] }> };
    for (const group of doc.groups) out.push(...group.rules);
  }
  return out;
}

promtoolTest('promtool check rules accepts every rule file', async (t) => {
  const { stdout } = await run(requireBinary('promtool')!, ['check', 'rules', ...(await ruleFiles())]);
  t.regex(stdout, /SUCCESS: \d+ rules found/);
});

promtoolTest('promtool test rules: every unit test of the rules passes', async (t) => {
  const tests = (await readdir(join(PROMETHEUS, 'tests'))).filter((f) => f.endsWith('.yml'));
  t.true(tests.length > 0);
  const { stdout } = await run(requireBinary('promtool')!, ['test', 'rules', ...tests], {
    cwd: join(PROMETHEUS, 'tests'),
  });
  t.notRegex(stdout, /FAILED/);
  t.regex(stdout, /SUCCESS/);
});

promtoolTest(
  'the OpenFaaS scrape configuration and the harness template are valid Prometheus configs',
  async (t) => {
    const promtool = requireBinary('promtool')!;
    await t.notThrowsAsync(run(promtool, ['check', 'config', join(PROMETHEUS, 'prometheus.openfaas.yml')]));
    const dir = await mkdtemp(join(tmpdir(), 'hxp-prom-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const filled = (await readFile(join(PROMETHEUS, 'prometheus.yml.template'), 'utf8'))
      .replaceAll('@PROMETHEUS_PORT@', '9090')
      .replaceAll('@PUSHGATEWAY_PORT@', '9091')
      .replaceAll('@METRICS_PORT@', '9102')
      .replaceAll('@RULES_DIR@', join(PROMETHEUS, 'rules'))
      .replaceAll('@TARGETS_DIR@', dir);
    t.notRegex(filled, /@[A-Z_]+@/, 'every placeholder is filled by scripts/lib/run.sh');
    await writeFile(join(dir, 'prometheus.yml'), filled);
    await t.notThrowsAsync(run(promtool, ['check', 'config', join(dir, 'prometheus.yml')]));
  },
);

test('every alert has a firing and a quiet case in the rule tests', async (t) => {
  const alerts = (await rules()).flatMap((r) => (r.alert ? [r.alert] : []));
  t.true(alerts.length >= 13);
  for (const name of ['BatchProcessingFailed', 'BatchProcessingDurationHigh', 'DataRetentionStorageFull'])
    t.true(alerts.includes(name), `the original's ${name}`);
  const cases = new Map<string, { firing: number; quiet: number }>();
  for (const file of (await readdir(join(PROMETHEUS, 'tests'))).filter((f) => f.endsWith('.yml'))) {
    const doc = parse(await readFile(join(PROMETHEUS, 'tests', file), 'utf8')) as {
      tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
    };
    for (const unit of doc.tests) {
      for (const c of unit.alert_rule_test ?? []) {
        const entry = cases.get(c.alertname) ?? { firing: 0, quiet: 0 };
        if ((c.exp_alerts ?? []).length > 0) entry.firing += 1;
        else entry.quiet += 1;
        cases.set(c.alertname, entry);
      }
    }
  }
  for (const name of alerts) {
    t.true((cases.get(name)?.firing ?? 0) > 0, `${name} has a firing case`);
    t.true((cases.get(name)?.quiet ?? 0) > 0, `${name} has a quiet case`);
  }
});

test('every alert has a severity, a summary and a description that says what to do', async (t) => {
  for (const rule of (await rules()).filter((r) => r.alert)) {
    t.true(['warning', 'critical'].includes(rule.labels?.severity ?? ''), `${rule.alert}: severity`);
    t.truthy(rule.annotations?.summary, `${rule.alert}: summary`);
    t.true((rule.annotations?.description ?? '').length > 40, `${rule.alert}: description`);
  }
});

test('every metric the rules read is exposed by the code (or recorded by the rules themselves)', async (t) => {
  const all = await rules();
  const recorded = new Set(all.flatMap((r) => (r.record ? [r.record] : [])));
  const known = knownMetricNames();
  for (const rule of all) {
    for (const name of promqlMetricNames(rule.expr)) {
      t.true(known.has(name) || recorded.has(name), `${rule.alert ?? rule.record} reads ${name}`);
    }
  }
});

test('every metric the rules read has the type and labels they assume (catalogue), annotations included', async (t) => {
  const all = await rules();
  const recorded = new Map(all.flatMap((r) => (r.record ? [[r.record, r.expr] as const] : [])));
  for (const rule of all) {
    const templateLabels = [...JSON.stringify(rule.annotations ?? {}).matchAll(/\$labels\.(\w+)/g)].map(
      (m) => m[1]!,
    );
    t.deepEqual(catalogueProblems(rule.expr, recorded, templateLabels), [], rule.alert ?? rule.record);
  }
});

test('every recording rule is read by an alert, the dashboard or a recording rule that is', async (t) => {
  const all = await rules();
  const dashboard = JSON.parse(
    await readFile(join(ROOT, 'deploy/grafana/batch-processing.json'), 'utf8'),
  ) as {
    panels: Array<{ targets?: Array<{ expr: string }> }>;
  };
  const used = new Set<string>();
  const read = (expr: string): void => {
    for (const name of promqlMetricNames(expr)) {
      const rule = all.find((r) => r.record === name);
      if (rule && !used.has(name)) {
        used.add(name);
        read(rule.expr);
      }
    }
  };
  for (const rule of all) if (rule.alert) read(rule.expr);
  for (const panel of dashboard.panels) for (const target of panel.targets ?? []) read(target.expr);
  for (const rule of all) if (rule.record) t.true(used.has(rule.record), `${rule.record} is read`);
});
