// The README's examples work as written: every command of "Using it" and of "The original service's
// checks, here" runs against the local runtime (stack.yml, the embedded database), with only the ports
// changed (tests never take a fixed port) and curl told to fail on an error status.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import avaTest from 'ava';
import { bridgedRoutes } from '../../runtime/kafka-bridge.ts';
import { kafkaTopics, loadConfiguredStack } from '../../runtime/stack.ts';
import { loadConfig } from '../../shared/config/index.ts';
import { pushedRawTopics } from '../../shared/ingest/consumption.ts';
import { binaryTest, requireBinary } from '../helpers/services.ts';
import { ROOT, startTestRuntime, tempStack } from './runtime-fixtures.ts';

const exec = promisify(execFile);
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
// faas-cli is one of the commands: the suite needs it like a user does (scripts/services install).
const test = binaryTest('faas-cli');

/**
 * The shell commands of the `nth` ```sh block after `heading`: a command continues over a trailing `\` and
 * over a newline inside single quotes (the README's JSON bodies); comments are dropped.
 */
export function shellBlock(markdown: string, heading: string, nth = 0): string[] {
  const from = markdown.indexOf(heading);
  if (from < 0) throw new Error(`README has no "${heading}"`);
  const blocks = [...markdown.slice(from).matchAll(/```sh\n([\s\S]*?)```/g)];
  const block = blocks[nth]?.[1];
  if (block === undefined) throw new Error(`no sh block #${nth} after "${heading}"`);
  const commands: string[] = [];
  let current = '';
  let joiner = '';
  for (const raw of block.split('\n')) {
    // A comment ends a line outside quotes; inside a quoted body a line is taken whole.
    const inQuote = (current.match(/'/g) ?? []).length % 2 === 1;
    const line = inQuote ? raw : raw.replace(/(^|\s+)#\s.*$/, '');
    current += `${joiner}${line}`;
    if ((current.match(/'/g) ?? []).length % 2 === 1) {
      joiner = '\n';
    } else if (current.endsWith('\\')) {
      current = current.slice(0, -1).trimEnd();
      joiner = ' ';
    } else {
      if (current.trim() !== '') commands.push(current.trim());
      current = '';
      joiner = '';
    }
  }
  return commands;
}

/** The inline commands of the checks table's right column (`curl …`, `faas-cli …`, `psql …`). */
function checksTable(markdown: string): string[] {
  const from = markdown.indexOf("### The original service's checks, here");
  const table = markdown.slice(from, markdown.indexOf('\n### ', from + 10));
  const commands: string[] = [];
  for (const row of table.split('\n').filter((l) => l.startsWith('| `'))) {
    const here = row.split(' | ')[1] ?? '';
    for (const [, cmd] of here.matchAll(/`((?:curl|faas-cli|psql) [^`]+)`/g)) commands.push(cmd!);
  }
  return commands;
}

interface Ports {
  gateway: string;
  api: string;
  metrics?: string;
}

/** As written, but on this runtime's ports, with curl failing on an HTTP error. */
function onRuntime(command: string, ports: Ports): string {
  let cmd = command
    .replaceAll('localhost:8080', ports.gateway)
    .replaceAll('127.0.0.1:8080', ports.gateway)
    .replaceAll('localhost:9101', ports.api)
    .replaceAll('127.0.0.1:9101', ports.api);
  if (ports.metrics) cmd = cmd.replaceAll('localhost:9102', ports.metrics);
  // A test opens no browser: the page `xdg-open` would show must answer.
  return cmd.replace(/^curl /, 'curl --fail-with-body ').replace(/^xdg-open /, 'curl --fail-with-body -s ');
}

async function shell(command: string, env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await exec('bash', ['-o', 'pipefail', '-c', command], { env, timeout: 60_000 });
    return stdout;
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    throw new Error(`\`${command}\` failed (exit ${e.code}): ${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

const hostPort = (url: string): string => new URL(url).host;

function toolsEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const bin = requireBinary('faas-cli')!;
  return { ...process.env, PATH: `${join(bin, '..')}:${process.env.PATH}`, HOME: process.env.HOME, ...extra };
}

test.serial('"Using it" and the original service\'s checks run as written against npm start', async (t) => {
  // The project's own stack.yml, as `npm start` runs it.
  const rt = await startTestRuntime(
    t,
    tempStack({}),
    { BATCH_PROCESSING_API_TOKEN: '' },
    { stackFile: join(ROOT, 'stack.yml'), metricsPort: 0 },
  );
  const ports = {
    gateway: hostPort(rt.gatewayUrl),
    api: hostPort(rt.apiUrl),
    metrics: hostPort(rt.metricsUrl!),
  };

  const usingIt = shellBlock(README, '## Using it');
  t.true(usingIt.length >= 6, usingIt.join('\n'));
  const answers: string[] = [];
  for (const command of usingIt) answers.push(await shell(onRuntime(command, ports), toolsEnv()));
  t.like(JSON.parse(answers[0]!), { stored: 1, rejected: 0 });
  t.like(JSON.parse(answers[1]!), { status: 'succeeded', level: 'hour', windowsDone: 1 });
  const backfill = JSON.parse(answers[2]!) as { status: string; windows: Array<{ bucket: string }> };
  t.is(backfill.status, 'succeeded');
  t.deepEqual(
    backfill.windows.map((w) => w.bucket),
    ['2026-11-28T00:00:00.000Z'],
    'the day with the pushed event, inside 1–28 November',
  );

  const checks = checksTable(README);
  t.true(checks.length >= 5, checks.join('\n'));
  for (const command of checks) {
    let cmd = onRuntime(command, ports);
    if (cmd.startsWith('psql postgres://hxp:hxp@127.0.0.1:5432/hxp')) continue; // the services' database
    if (cmd.includes('<fn>')) cmd = cmd.replace('<fn>', 'aggregate-hourly --gateway http://' + ports.gateway);
    const out = await shell(cmd, toolsEnv());
    if (cmd.startsWith('faas-cli list')) t.regex(out, /^aggregate-hourly\s/m);
  }
  // "embedded: point psql at the runtime's printed database URL while it runs"
  const rows = await shell(
    `psql '${rt.database.url}' -At -c "SELECT count(*) FROM hourly_aggregations"`,
    toolsEnv(),
  );
  t.true(Number(rows.trim()) > 0);
});

test.serial('the API token example: with the token the backfill runs, without it 401', async (t) => {
  const token = 'readme-token-0c9f2e';
  const stack = tempStack({
    'aggregate-daily': {
      projectHandler: 'functions/aggregate-daily',
      environment: { AGGREGATION_LEVEL: 'day' },
    },
  });
  const rt = await startTestRuntime(t, stack, { BATCH_PROCESSING_API_TOKEN: token });
  const ports = { gateway: hostPort(rt.gatewayUrl), api: hostPort(rt.apiUrl) };
  // The block's first line makes the token the runtime was started with; this one was set up front.
  const [exportLine, ...commands] = shellBlock(README, '**API token.**');
  t.regex(exportLine!, /^export BATCH_PROCESSING_API_TOKEN=/);
  for (const command of commands) {
    const out = await shell(onRuntime(command, ports), toolsEnv({ BATCH_PROCESSING_API_TOKEN: token }));
    t.like(JSON.parse(out), { status: 'succeeded', level: 'day' });
    const refused = await shell(
      onRuntime(command, ports).replace('--fail-with-body ', '-o /dev/null -w "%{http_code}" '),
      toolsEnv({ BATCH_PROCESSING_API_TOKEN: 'wrong' }),
    );
    t.is(refused, '401');
  }
});

/** What the runtime's Kafka bridge would carry for an environment: its routes, from the project's stack.yml. */
const configOf = (env: Record<string, string>) =>
  loadConfig({ env, file: null, secretsDir: join(ROOT, 'no-such-secrets') });

function bridgedBy(env: Record<string, string>): Array<{ fn: string; topics: string[] }> {
  const config = configOf(env);
  const stack = loadConfiguredStack(join(ROOT, 'stack.yml'), env, config);
  return bridgedRoutes(
    stack.functions.map((f) => ({ fn: f.name, topics: kafkaTopics(f) })),
    config.kafka.topics.raw,
    pushedRawTopics(config),
  );
}

// Regression: the README said `… KAFKA_BOOTSTRAP_SERVERS=… npm start` makes the bridge feed ingest from the
// raw topic, but under the default KAFKA_CONSUMPTION=pull the bridge leaves it to aggregate-hourly's pull.
avaTest(
  '"Running against the real services": what npm start with Kafka consumes is what the runtime bridges',
  (t) => {
    const from = README.indexOf('To run the local runtime on them');
    const paragraph = README.slice(from, README.indexOf('\n\n', from)).replace(/\s+/g, ' ');
    const [, command = '', claim = ''] =
      /`((?:[A-Z_]+=\S+ )+npm start)`: (.*?\.)(?: |$)/.exec(paragraph) ?? [];
    const env = Object.fromEntries(
      command
        .split(' ')
        .slice(0, -2)
        .map((a) => a.split('=', 2) as [string, string]),
    );
    t.truthy(env.KAFKA_BOOTSTRAP_SERVERS, paragraph);

    const routes = bridgedBy(env);
    const feedsIngest = routes.some((r) => r.fn === 'ingest');
    t.is(/bridge[^.]*feeds `ingest`/.test(claim), feedsIngest, `${command}: ${claim}`);
    t.false(feedsIngest, 'the default consumption is the pull');
    t.regex(claim, /`aggregate-hourly` then pulls the raw topic/);
    const topics = [...new Set(routes.flatMap((r) => r.topics))];
    t.regex(claim, new RegExp(`bridge carries only ${topics.map((topic) => `\`${topic}\``).join(', ')} `));
    for (const { fn } of routes) t.true(claim.includes(`\`${fn}\``), `${fn} is named`);

    const push = bridgedBy({ ...env, KAFKA_CONSUMPTION: 'push' });
    const raw = configOf(env).kafka.topics.raw;
    t.deepEqual(push.find((r) => r.fn === 'ingest')?.topics, raw);
    t.regex(
      paragraph,
      /Add `KAFKA_CONSUMPTION=push` to that line and the bridge feeds `ingest` from the raw topic/,
    );
  },
);
