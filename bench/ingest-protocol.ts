// What bench/ingest.ts hands its child process (env BENCH_INGEST) and reads back from its stdout.

export interface IngestChildConfig {
  databaseUrl: string;
  brokers: string[];
  topic: string;
  groupId: string;
  /** Stop when nothing arrived for this long (the topic is drained). */
  idleMs: number;
  maxDurationMs: number;
  /**
   * Print READY_LINE once connected, then wait for GO_LINE on stdin before pulling: the scale-out measurement
   * starts all consumers of a group together, so that none has drained the topic before the others joined.
   */
  startGate?: boolean;
}

export interface IngestChildResult {
  recordsIn: number;
  stored: number;
  duplicates: number;
  rejected: number;
  lag: number;
  stoppedBy: string;
  /** pullFromKafka start → its last PostgreSQL commit (connect and group join included, idle tail not). */
  busyMs: number;
  /** pullFromKafka start → return (includes the idle wait that detects the end). */
  wallMs: number;
  /** pullFromKafka start → first commit (connect, join, first fetch). */
  firstCommitMs: number;
  commits: number;
  maxRssKiB: number;
  /** CPU time of the ingesting process itself (user + system), to tell Node-bound from PostgreSQL-bound. */
  cpuMs: number;
  /** Epoch ms of pullFromKafka's start and of its last commit: several consumers' spans are put together. */
  startedAtMs: number;
  lastCommitAtMs: number;
}

export const RESULT_PREFIX = 'BENCH_RESULT ';
export const READY_LINE = 'BENCH_READY';
export const GO_LINE = 'BENCH_GO';
