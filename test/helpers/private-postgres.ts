// A PostgreSQL cluster of the test's own: initdb in a temp folder, a free port, password (SCRAM) auth with a
// random password, and a postmaster this process started and may stop, crash or restart at will. The
// shared server on 5432 that every other suite uses is never touched. Needs Debian's postgresql binaries
// (the `postgres` service installs them); as root, the cluster runs as the `postgres` user.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import pg from 'pg';
import { freePort } from '../../runtime/free-port.ts';
import { migrate, openDatabase, type Database } from '../../shared/db/index.ts';

const BIN = '/usr/lib/postgresql/15/bin';

export function privatePostgresAvailable(): boolean {
  return existsSync(join(BIN, 'initdb')) && existsSync(join(BIN, 'postgres'));
}

export interface PrivatePostgres {
  /** postgres://<user>:<password>@127.0.0.1:<port>/<database> */
  url: string;
  user: string;
  password: string;
  port: number;
  /**
   * Stops the postmaster: 'fast' (SIGINT: clients cut, clean shutdown — a restart) or 'immediate' (SIGQUIT:
   * every backend ends at once without a checkpoint, as in a crash; the next start runs crash recovery).
   */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port and folder; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it and removes the folder. */
  destroy(): Promise<void>;
}

interface Owner {
  uid: number;
  gid: number;
}

function postgresUser(): Owner | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const out = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  return { uid: Number(out.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function asOwner(owner: Owner | undefined, command: string, args: string[]): [string, string[]] {
  return owner ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const owner = postgresUser();
  const dir = mkdtempSync(join(tmpdir(), 'hxp-private-pg-'));
  const data = join(dir, 'data');
  const user = 'hxp_private';
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`);
  chmodSync(dir, 0o700);
  if (owner) {
    chownSync(dir, owner.uid, owner.gid);
    chownSync(pwfile, owner.uid, owner.gid);
  }
  const [cmd, args] = asOwner(owner, join(BIN, 'initdb'), [
    '-D', data, '-U', user, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-sync',
  ]); // prettier-ignore
  const init = spawnSync(cmd, args, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  const port = await freePort();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  async function start(): Promise<void> {
    const [command, argv] = asOwner(owner, join(BIN, 'postgres'), [
      '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off',
      '-c', 'max_connections=60',
    ]); // prettier-ignore
    const proc = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-4000)));
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
      }
      if (proc.exitCode !== null || Date.now() > deadline) {
        throw new Error(`private PostgreSQL did not start on port ${port}: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    const proc = child;
    if (!proc || proc.exitCode !== null) return;
    // The postmaster's own pid (runuser in between would not pass every signal on).
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, mode === 'immediate' ? 'SIGQUIT' : 'SIGINT');
    await exited;
    child = undefined;
  }

  const url = `postgres://${user}:${password}@127.0.0.1:${port}/postgres`;
  await start();
  return {
    url,
    user,
    password,
    port,
    stop,
    start,
    async destroy() {
      await stop('fast').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A private cluster with a migrated pool on it; both go when the test ends (the pool first). */
export async function privateDatabase(t: ExecutionContext): Promise<{ pg: PrivatePostgres; db: Database }> {
  const cluster = await startPrivatePostgres();
  t.teardown(() => cluster.destroy());
  const db = await openDatabase({ url: cluster.url, poolSize: 4 });
  t.teardown(() => db.close());
  await migrate(db);
  return { pg: cluster, db };
}
