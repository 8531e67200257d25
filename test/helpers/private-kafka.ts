// A Kafka broker of the test's own (single-node KRaft, free ports, a temp log dir) from the jars the
// `kafka` service installed, so a test can stop and restart it without touching the shared broker on 9092.
// Heavy (a JVM with a 256 MiB heap): only the outage tests use it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { freePort } from '../../runtime/free-port.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The broker's jar folder (scripts/services install), or undefined when Kafka is not installed. */
export function kafkaLib(): string | undefined {
  const cache = process.env.HXP_CACHE_DIR ?? join(homedir(), '.cache', 'hxp-batch');
  const version = existsSync(join(cache, 'kafka.current'))
    ? readFileSync(join(cache, 'kafka.current'), 'utf8').trim()
    : undefined;
  const lib = version && join(cache, `kafka-${version}`, 'lib');
  return lib && existsSync(lib) ? lib : undefined;
}

export interface PrivateKafka {
  brokers: string[];
  /** SIGTERM (a controlled shutdown) and wait for the JVM to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and log dir; resolves once it answers metadata. */
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startPrivateKafka(): Promise<PrivateKafka> {
  const lib = kafkaLib();
  if (!lib) throw new Error('Kafka is not installed: run bash scripts/services install');
  const dir = mkdtempSync(join(tmpdir(), 'hxp-private-kafka-'));
  const [port, controller] = [await freePort(), await freePort()];
  const properties = readFileSync(join(ROOT, 'deploy/kafka/server.properties.template'), 'utf8')
    .replaceAll('@KAFKA_PORT@', String(port))
    .replaceAll('@KAFKA_CONTROLLER_PORT@', String(controller))
    .replaceAll('@KAFKA_LOG_DIR@', join(dir, 'data'));
  const config = join(dir, 'server.properties');
  writeFileSync(config, properties);
  const log4j = `-Dlog4j.configuration=file:${join(ROOT, 'deploy/kafka/log4j.properties')}`;
  const classpath = `${lib}/*`;
  const id = spawnSync('java', ['-cp', classpath, 'kafka.tools.StorageTool', 'random-uuid'], {
    encoding: 'utf8',
  })
    .stdout.trim()
    .split('\n')
    .pop()!;
  const format = spawnSync(
    'java',
    [
      log4j,
      '-cp',
      classpath,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      id,
      '-c',
      config,
      '--ignore-formatted',
    ],
    { encoding: 'utf8' },
  );
  if (format.status !== 0) throw new Error(`kafka StorageTool format failed: ${format.stderr}`);
  const brokers = [`127.0.0.1:${port}`];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  async function start(): Promise<void> {
    const proc = spawn(
      'java',
      [
        '-Xmx256m',
        '-XX:+UseG1GC',
        '-Djava.awt.headless=true',
        log4j,
        '-cp',
        classpath,
        'kafka.Kafka',
        config,
      ],
      { stdio: 'ignore' },
    );
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const admin = new Kafka({ brokers, clientId: 'hxp-private-kafka', logLevel: logLevel.NOTHING }).admin();
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        await admin.connect();
        await admin.describeCluster();
        await admin.disconnect();
        return;
      } catch {
        await admin.disconnect().catch(() => undefined);
      }
      if (proc.exitCode !== null || Date.now() > deadline)
        throw new Error(`private Kafka did not start on ${brokers[0]}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  async function stop(): Promise<void> {
    if (!child || child.exitCode !== null) return;
    child.kill('SIGTERM');
    await exited;
    child = undefined;
  }

  await start();
  return {
    brokers,
    stop,
    start,
    async destroy() {
      if (child && child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
