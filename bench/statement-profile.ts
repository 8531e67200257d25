// `--explain` also profiles the timed aggregation runs: a Database wrapper that times every statement sent
// through it (pool queries and the clients handed to withClient/transaction), grouped by the statement's
// first words, so a report can say where the time of a run goes besides the aggregation SQL itself.
import { performance } from 'node:perf_hooks';
import type { PoolClient } from 'pg';
import type { Database } from '../shared/db/index.ts';

export interface StatementStat {
  statement: string;
  calls: number;
  ms: number;
}

function label(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 90);
}

export function profiledDatabase(db: Database): { db: Database; stats(): StatementStat[] } {
  const byLabel = new Map<string, StatementStat>();
  const record = (text: unknown, ms: number): void => {
    const key =
      typeof text === 'string'
        ? label(text)
        : typeof text === 'object' && text && 'text' in text
          ? label(String(text.text))
          : '(other)';
    const s = byLabel.get(key) ?? { statement: key, calls: 0, ms: 0 };
    s.calls += 1;
    s.ms += ms;
    byLabel.set(key, s);
  };
  const timed =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const started = performance.now();
      try {
        return await fn(...args);
      } finally {
        record(args[0], performance.now() - started);
      }
    };
  // A COPY (pg-copy-streams) is a submittable: query() hands back the stream itself, synchronously, and the
  // statement lasts until the stream ends.
  const isCopyStream = (arg: unknown): arg is NodeJS.EventEmitter & { text?: string } =>
    typeof arg === 'object' && arg !== null && 'submit' in arg && 'on' in arg;
  const timedCopy = (stream: NodeJS.EventEmitter & { text?: string }): void => {
    const started = performance.now();
    let recorded = false;
    const done = (): void => {
      if (!recorded) record(label(String(stream.text ?? 'COPY')), performance.now() - started);
      recorded = true;
    };
    stream.once('end', done).once('finish', done);
  };
  const wrapClient = (client: PoolClient): PoolClient =>
    new Proxy(client, {
      get(target, prop, receiver) {
        if (prop === 'query') {
          const timedQuery = timed(target.query.bind(target) as (...a: unknown[]) => Promise<unknown>);
          return (...args: unknown[]): unknown => {
            if (!isCopyStream(args[0])) return timedQuery(...args);
            timedCopy(args[0]);
            return (target.query as (s: unknown) => unknown).call(target, args[0]);
          };
        }
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  const wrapped: Database = {
    embedded: db.embedded,
    query: timed(db.query.bind(db)) as Database['query'],
    withClient: (fn) => db.withClient((client) => fn(wrapClient(client))),
    transaction: (fn) => {
      const started = performance.now();
      return db
        .transaction((client) => fn(wrapClient(client)))
        .finally(() => record('(whole transaction incl. BEGIN/COMMIT)', performance.now() - started));
    },
    close: () => db.close(),
  };
  return { db: wrapped, stats: () => [...byLabel.values()].sort((a, b) => b.ms - a.ms) };
}
