// One child process per function, running the project's template server from source. A child that
// exits on its own is restarted with exponential backoff (reset after a minute of uptime); every
// crash is logged and counted, and the count shows in /system/functions (`restarts`).
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.ts';
import type { FunctionSpec } from './stack.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const TEMPLATE_ENTRY = fileURLToPath(new URL('../templates/node20-ts/index.ts', import.meta.url));

export type ProcessState = 'starting' | 'ready' | 'crashed' | 'stopped';

export interface RuntimeLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SupervisorOptions {
  /** Env every child gets (process env + runtime additions); the function's stack env goes on top. */
  baseEnv: NodeJS.ProcessEnv;
  /** Env that wins over stack.yml (e.g. the embedded DATABASE_URL). */
  overrideEnv?: Record<string, string>;
  log: RuntimeLog;
  templateEntry?: string;
  /** Where the children's stdout/stderr lines go (default: this process's stdout, prefixed). */
  output?: (fn: string, line: string) => void;
  readyTimeoutMs?: number;
  backoffMs?: { initial: number; max: number };
  onCrash?: (fn: string) => void;
}

export interface FunctionProcess {
  readonly spec: FunctionSpec;
  readonly state: ProcessState;
  readonly port: number | undefined;
  readonly pid: number | undefined;
  readonly restarts: number;
  readonly startedAt: Date;
  /** Resolves with the port once the process is listening (waits through a restart). */
  ready(timeoutMs?: number): Promise<number>;
  /** Sends SIGKILL (tests use it to simulate a crash). */
  kill(signal?: NodeJS.Signals): void;
}

class Supervised implements FunctionProcess {
  state: ProcessState = 'starting';
  port: number | undefined;
  restarts = 0;
  readonly startedAt = new Date();
  private child: ChildProcess | undefined;
  private waiters: Array<(port: number) => void> = [];
  private failures = 0;
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly spec: FunctionSpec,
    private readonly options: SupervisorOptions,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (this.stopping) return;
    this.state = 'starting';
    const port = await freePort();
    const env = {
      ...this.options.baseEnv,
      ...this.spec.environment,
      ...this.options.overrideEnv,
      HANDLER_PATH: this.spec.handlerPath,
      PORT: String(port),
      HXP_FUNCTION_NAME: this.spec.name,
    };
    const entry = this.options.templateEntry ?? TEMPLATE_ENTRY;
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      cwd: PROJECT_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const upAt = Date.now();
    const out = this.options.output ?? ((fn, line) => process.stdout.write(`[${fn}] ${line}\n`));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (this.state === 'starting' && line.includes('"listening"')) {
        try {
          const parsed = JSON.parse(line) as { msg?: string; port?: number };
          if (parsed.msg === 'listening' && typeof parsed.port === 'number') this.markReady(parsed.port);
        } catch {
          // not our ready line
        }
      }
      out(this.spec.name, line);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => out(this.spec.name, line));
    // The ready line is pino info; with LOG_LEVEL=warn it never comes, so also probe the port we gave it.
    const probe = setInterval(() => {
      if (this.child !== child || this.state !== 'starting') return clearInterval(probe);
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        if (this.child === child && this.state === 'starting') this.markReady(port);
      });
      socket.once('error', () => socket.destroy());
    }, 150);
    const readyTimer = setTimeout(() => {
      if (this.child === child && this.state === 'starting') {
        this.options.log.error(
          { fn: this.spec.name, timeoutMs: this.options.readyTimeoutMs ?? 30_000 },
          'function did not print {"msg":"listening"} in time; killing it',
        );
        child.kill('SIGKILL');
      }
    }, this.options.readyTimeoutMs ?? 30_000);
    child.once('exit', (code, signal) => {
      clearTimeout(readyTimer);
      clearInterval(probe);
      if (this.child !== child) return;
      this.child = undefined;
      this.port = undefined;
      if (this.stopping) {
        this.state = 'stopped';
        return;
      }
      this.state = 'crashed';
      this.restarts += 1;
      this.failures = Date.now() - upAt > 60_000 ? 1 : this.failures + 1;
      const { initial, max } = this.options.backoffMs ?? { initial: 250, max: 10_000 };
      const delay = Math.min(max, initial * 2 ** (this.failures - 1));
      this.options.log.warn(
        { fn: this.spec.name, code, signal, restarts: this.restarts, retryInMs: delay },
        'function process exited; restarting',
      );
      this.options.onCrash?.(this.spec.name);
      this.timer = setTimeout(() => void this.start(), delay);
    });
  }

  private markReady(port: number): void {
    this.state = 'ready';
    this.port = port;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(port);
  }

  ready(timeoutMs = 30_000): Promise<number> {
    if (this.state === 'ready' && this.port !== undefined) return Promise.resolve(this.port);
    if (this.stopping) return Promise.reject(new Error(`function ${this.spec.name} is stopped`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        reject(
          new Error(`function ${this.spec.name} is not ready after ${timeoutMs} ms (state ${this.state})`),
        );
      }, timeoutMs);
      const done = (port: number): void => {
        clearTimeout(timer);
        resolve(port);
      };
      this.waiters.push(done);
    });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child?.kill(signal);
  }

  async stop(timeoutMs = 5_000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    const child = this.child;
    if (!child || child.exitCode !== null) {
      this.state = 'stopped';
      return;
    }
    // 'close', not 'exit': the child's last lines (draining, stopped) may still sit in its pipes at exit.
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

export interface Supervisor {
  get(name: string): FunctionProcess | undefined;
  all(): FunctionProcess[];
  /** Starts every function and waits until each is listening; `onReady` hears of each as it gets there. */
  startAll(timeoutMs?: number, onReady?: (fn: string, ready: number, total: number) => void): Promise<void>;
  stopAll(): Promise<void>;
}

export function createSupervisor(functions: FunctionSpec[], options: SupervisorOptions): Supervisor {
  const procs = new Map(functions.map((f) => [f.name, new Supervised(f, options)]));
  return {
    get: (name) => procs.get(name),
    all: () => [...procs.values()],
    async startAll(timeoutMs = 60_000, onReady) {
      await Promise.all([...procs.values()].map((p) => p.start()));
      let ready = 0;
      await Promise.all(
        [...procs.values()].map(async (p) => {
          await p.ready(timeoutMs);
          ready += 1;
          onReady?.(p.spec.name, ready, procs.size);
        }),
      );
    },
    async stopAll() {
      await Promise.all([...procs.values()].map((p) => p.stop()));
    },
  };
}
