// The real services the benchmark runs against (TEST_DATABASE_URL's server, TEST_KAFKA_BROKERS), a fresh
// database and topic per size, and the psql binary for the COPY ceiling.
import pg from 'pg';
import type { Kafka } from 'kafkajs';
import { dropDatabaseForce, migrate, openDatabase, type Database } from '../shared/db/index.ts';

export interface ServiceUrls {
  databaseUrl: string;
  brokers: string[];
}

export function serviceUrls(): ServiceUrls {
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  const brokers = (process.env.BENCH_KAFKA_BROKERS ?? process.env.TEST_KAFKA_BROKERS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (!databaseUrl || brokers.length === 0) {
    throw new Error(
      'the benchmark needs PostgreSQL and Kafka: run `bash scripts/services up` and `eval "$(bash scripts/services env)"` ' +
        '(sets TEST_DATABASE_URL and TEST_KAFKA_BROKERS), then `npm run bench`',
    );
  }
  return { databaseUrl, brokers };
}

async function admin<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface BenchDatabase {
  name: string;
  url: string;
  db: Database;
}

/** Drops `name` if it exists, creates it, migrates it and opens a small pool on it. */
export async function freshDatabase(serverUrl: string, name: string): Promise<BenchDatabase> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`database name "${name}" must be lower_snake_case`);
  await admin(serverUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
  });
  const url = databaseUrl(serverUrl, name);
  const db = await openDatabase({ url, poolSize: 4 });
  await migrate(db);
  return { name, url, db };
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await dropDatabaseForce((sql) => admin(serverUrl, (c) => c.query(sql)), name);
}

export async function createTopic(kafka: Kafka, topic: string, partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    if (!created)
      throw new Error(
        `topic ${topic} could not be created (it already exists; topic names carry a run id, so this is a leftover)`,
      );
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if ((await admin.listTopics()).includes(topic)) await admin.deleteTopics({ topics: [topic] });
  } finally {
    await admin.disconnect();
  }
}

/** Six hours: the longest benchmark run (10M with every step) takes about half an hour. */
const LEFTOVER_AFTER_MS = 6 * 3_600_000;

/**
 * The benchmark topics among `topics` whose run started more than `olderThanMs` before `now`. Every benchmark
 * topic ends in its run's id, the run's start in base 36 (`hxp-bench-1000000-mxcd1144`,
 * `hxp-bench-scale-…-<id>`, `hxp-bench-load-<id>`).
 */
export function leftoverBenchTopics(
  topics: readonly string[],
  now: number,
  olderThanMs = LEFTOVER_AFTER_MS,
): string[] {
  return topics.filter((topic) => {
    const runId = /^hxp-bench-.+-([0-9a-z]{8,9})$/.exec(topic)?.[1];
    if (runId === undefined) return false;
    const started = parseInt(runId, 36);
    // A run id names a time after 2020 and not in the future; anything else is not one of ours.
    return started > Date.UTC(2020, 0, 1) && started <= now && now - started > olderThanMs;
  });
}

/**
 * Deletes the topics of benchmark runs that did not get to delete their own: a run stopped by Ctrl-C or a
 * crash never reaches its cleanup, and one 10M topic holds ~2.3 GB of the broker's disk. Returns what it
 * deleted.
 */
export async function deleteLeftoverTopics(kafka: Kafka, now = Date.now()): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const leftovers = leftoverBenchTopics(await admin.listTopics(), now);
    if (leftovers.length > 0) await admin.deleteTopics({ topics: leftovers });
    return leftovers;
  } finally {
    await admin.disconnect();
  }
}
