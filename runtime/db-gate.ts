// A queueing TCP gate in front of pglite-socket: one client connection at a time, the rest wait.
//
// Why: PGlite is ONE PostgreSQL session. pglite-socket with maxConnections > 1 multiplexes clients
// onto it, so they share session state (SET, prepared statements, session advisory locks, temp
// tables) and interleave extended-protocol messages; with maxConnections 1 (what we run) a second
// client is not queued but refused — it gets the text "Too many connections" and a closed socket,
// which `pg` reports as a protocol error. So the gate accepts every client, queues them FIFO, and
// pipes exactly one at a time to the single upstream connection. Between two clients it waits until
// pglite-socket has dropped the previous handler (which rolls back an open transaction) and then runs
// `DISCARD ALL` on PGlite, so every client starts with a clean session, as on a real server. When that
// reset fails, the session is never handed on dirty: the next client is refused (a FATAL ErrorResponse,
// as a server that cannot take a connection answers) and the reset is tried again before the one after.
// Clients must connect per unit of work and release (function processes get HXP_DB_EMBEDDED_SOCKET=1
// for that). As a safety net a client idle outside a transaction (last ReadyForQuery 'I') for
// `preemptIdleMs` while others wait is disconnected — a pooled idle connection then reconnects.
// pglite-socket cannot do COPY FROM STDIN (PGlite spins); copy-guard.ts refuses it with an error.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { CopyGuard, copyRefusal, errorResponse } from './copy-guard.ts';

export interface DbGateOptions {
  upstreamHost: string;
  upstreamPort: number;
  /** Resolves once the upstream server holds no connection (the previous client is fully gone). */
  upstreamIdle: () => Promise<void>;
  /** Runs between two clients with no client connected (DISCARD ALL on PGlite). */
  resetSession?: () => Promise<void>;
  /** Told when the session could not be reset (the runtime logs it). */
  onResetFailed?: (err: unknown) => void;
  preemptIdleMs?: number;
  host?: string;
  port?: number;
}

export interface DbGate {
  port: number;
  url(database?: string): string;
  stats(): { active: boolean; waiting: number; served: number; preempted: number; refused: number };
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;

/**
 * Tracks ReadyForQuery status in the backend → client stream ('I' idle, 'T' in tx, 'E' failed tx). It
 * only keeps the 5-byte message headers (and the status byte), never message bodies, so large results
 * cost nothing here.
 */
class BackendTracker {
  status: string | undefined;
  /** Bytes to ignore before the next message header (SSL answer, then message bodies). */
  skip = 0;
  private header: number[] = [];
  private readyBody = false;
  feed(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        if (this.readyBody && n > 0) this.status = String.fromCharCode(chunk[i]!);
        this.readyBody = false;
        this.skip -= n;
        i += n;
        continue;
      }
      this.header.push(chunk[i]!);
      i += 1;
      if (this.header.length === 5) {
        const [type, a, b, c, d] = this.header as [number, number, number, number, number];
        const len = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
        this.header = [];
        this.skip = Math.max(0, len - 4);
        this.readyBody = type === 0x5a && len === 5;
      }
    }
  }
}

export async function startDbGate(options: DbGateOptions): Promise<DbGate> {
  const waiting: Socket[] = [];
  let active:
    { client: Socket; upstream: Socket; tracker: BackendTracker; lastClientData: number } | undefined;
  let switching = false;
  let closing = false;
  // The last reset failed: the session may hold the previous client's state.
  let dirty = false;
  let served = 0;
  let preempted = 0;
  let refused = 0;
  const preemptIdleMs = options.preemptIdleMs ?? 1_000;

  // The reset under way, if any: close() waits for it.
  let resetting: Promise<void> | undefined;
  /** Resets the session (after the previous client's connection is gone), then serves the next client. */
  const resetThenPump = (waitForUpstream: boolean): Promise<void> => {
    // Closing: nobody is served again, and the database may be closed next (it is awaited in close()).
    if (closing) return Promise.resolve();
    resetting = resetNow(waitForUpstream).finally(() => {
      resetting = undefined;
    });
    return resetting;
  };
  const resetNow = async (waitForUpstream: boolean): Promise<void> => {
    switching = true;
    try {
      if (waitForUpstream) await options.upstreamIdle();
      await options.resetSession?.();
      dirty = false;
    } catch (err) {
      dirty = true;
      options.onResetFailed?.(err);
    } finally {
      switching = false;
      pump();
    }
  };

  const pump = (): void => {
    if (active || switching || closing) return;
    let client = waiting.shift();
    while (client && client.destroyed) client = waiting.shift();
    if (!client) return;
    const c = client;
    if (dirty) {
      refused += 1;
      c.end(
        errorResponse(
          'FATAL',
          '08006',
          'the embedded database could not reset its session after the previous client, so this ' +
            'connection is refused rather than handed that session; connect again',
        ),
      );
      void resetThenPump(false);
      return;
    }
    const upstream = connect(options.upstreamPort, options.upstreamHost);
    // Nagle's algorithm off, as on the client side. The copy guard hands a message on as header and body;
    // written as two segments under Nagle, the body waited for the ACK of the 5-byte header, which
    // pglite-socket delays by the kernel's 40 ms delayed-ACK timer (half a message: nothing to answer yet).
    // That was ~45 ms on every statement, nearly all of an hourly window's 0.5 s on the embedded database.
    // What one chunk brings is also written as one segment (below).
    upstream.setNoDelay(true);
    const tracker = new BackendTracker();
    const slot = { client: c, upstream, tracker, lastClientData: Date.now() };
    active = slot;
    served += 1;
    let first = true;
    const guard = new CopyGuard();
    c.on('data', (chunk: Buffer) => {
      slot.lastClientData = Date.now();
      if (first) {
        first = false;
        if (chunk.length >= 8 && chunk.readUInt32BE(4) === SSL_REQUEST) tracker.skip = 1;
      }
      const { forward, rejected } = guard.feed(chunk);
      for (let n = 0; n < rejected; n += 1)
        c.write(copyRefusal(tracker.status !== undefined && tracker.status !== 'I'));
      if (forward.length > 0 && !upstream.write(forward.length === 1 ? forward[0]! : Buffer.concat(forward)))
        c.pause();
    });
    upstream.on('drain', () => c.resume());
    upstream.on('data', (chunk: Buffer) => {
      tracker.feed(chunk);
      if (!c.write(chunk)) upstream.pause();
    });
    c.on('drain', () => upstream.resume());
    let closed = 0;
    const finish = (): void => {
      closed += 1;
      c.destroy();
      upstream.destroy();
      if (closed < 2) return;
      // Both sockets are gone: wait for pglite-socket to drop its handler, reset the session, go on.
      active = undefined;
      void resetThenPump(true);
    };
    c.once('close', finish);
    upstream.once('close', finish);
    c.on('error', () => undefined);
    upstream.on('error', () => undefined);
    c.resume();
  };

  const timer = setInterval(
    () => {
      if (!active || waiting.length === 0) return;
      const idleFor = Date.now() - active.lastClientData;
      if (active.tracker.status === 'I' && idleFor >= preemptIdleMs) {
        preempted += 1;
        active.client.destroy();
      }
    },
    Math.max(50, Math.floor(preemptIdleMs / 4)),
  );
  timer.unref();

  const server: Server = createServer((client) => {
    client.pause();
    client.setNoDelay(true);
    client.on('error', () => undefined);
    waiting.push(client);
    pump();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}?sslmode=disable`,
    stats: () => ({ active: active !== undefined, waiting: waiting.length, served, preempted, refused }),
    async close() {
      closing = true;
      clearInterval(timer);
      for (const s of waiting.splice(0)) s.destroy();
      active?.client.destroy();
      active?.upstream.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // A reset already under way finishes before the caller closes the database under it.
      await resetting;
    },
  };
}
