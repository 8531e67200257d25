import type { PoolClient, QueryResult, QueryResultRow } from 'pg';

/** What every module needs from a connection or a pool: the surface `pg` and @neondatabase/serverless share. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}

export interface Database extends Queryable {
  /** true when this is the embedded PGlite: one session, so one connection at a time. */
  readonly embedded: boolean;
  /**
   * Runs `fn` on one dedicated connection. In embedded mode, calling `db.query`/`withClient`/`transaction`
   * from inside `fn` would wait for the connection `fn` holds; it throws DB_EMBEDDED_NESTED_CONNECTION
   * instead. Use the `client` you were given.
   */
  withClient<T>(fn: (client: PoolClient) => Promise<T>): Promise<T>;
  /** Runs `fn` inside BEGIN/COMMIT on one connection; rolls back when it throws. Same nesting rule. */
  transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Options handed to a PoolFactory; `pg.Pool` and @neondatabase/serverless's `Pool` both accept them. */
export interface PoolConfig {
  connectionString: string;
  max: number;
  /** 0 keeps idle connections open forever (embedded mode). */
  idleTimeoutMillis?: number;
}

/** The pool surface this layer uses, shared by `pg.Pool` and @neondatabase/serverless's `Pool`. */
export interface PoolLike {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
  connect(): Promise<PoolClient>;
  end(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export type PoolFactory = (config: PoolConfig) => PoolLike;

/** Receives what migrate() and the connect retry did; pino's logger fits. */
export interface DbLogger {
  info(obj: object, msg?: string): void;
  warn?(obj: object, msg?: string): void;
}
