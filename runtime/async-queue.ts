// /async-function/<name>: accepted with 202 + X-Call-Id, run in the background (bounded concurrency,
// FIFO), and the result POSTed to X-Callback-Url with the queue-worker's headers.
import type { IncomingHttpHeaders } from 'node:http';
import { errorAnswer } from './error-answer.ts';
import type { BufferedAnswer } from './proxy.ts';
import type { RuntimeLog } from './supervisor.ts';

export interface AsyncJob {
  callId: string;
  fn: string;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  callbackUrl: string | undefined;
}

export interface AsyncQueueOptions {
  invoke: (job: AsyncJob) => Promise<BufferedAnswer>;
  log: RuntimeLog;
  concurrency?: number;
  onDepth?: (depth: number) => void;
}

export interface AsyncQueue {
  enqueue(job: AsyncJob): void;
  depth(): number;
  /** Resolves when nothing is queued or running. */
  idle(): Promise<void>;
}

export function createAsyncQueue(options: AsyncQueueOptions): AsyncQueue {
  const pending: AsyncJob[] = [];
  let running = 0;
  let idleWaiters: Array<() => void> = [];
  const limit = options.concurrency ?? 4;

  const report = (): void => {
    options.onDepth?.(pending.length + running);
    if (pending.length + running === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  };

  async function run(job: AsyncJob): Promise<void> {
    const started = process.hrtime.bigint();
    let answer: BufferedAnswer;
    try {
      answer = await options.invoke(job);
    } catch (err) {
      // FUNCTION_TIMEOUT (504) or FUNCTION_UNREACHABLE (502), reported to the callback like an answer.
      answer = errorAnswer(err);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    options.log.info(
      { fn: job.fn, callId: job.callId, status: answer.status, seconds },
      'async invocation finished',
    );
    if (!job.callbackUrl) return;
    try {
      const contentType = answer.headers['content-type'];
      const res = await fetch(job.callbackUrl, {
        method: 'POST',
        headers: {
          'content-type': typeof contentType === 'string' ? contentType : 'application/octet-stream',
          'X-Call-Id': job.callId,
          'X-Function-Name': job.fn,
          'X-Function-Status': String(answer.status),
          'X-Duration-Seconds': seconds.toFixed(6),
        },
        body: answer.body,
      });
      await res.arrayBuffer();
      options.log.info(
        { fn: job.fn, callId: job.callId, callbackStatus: res.status },
        'async callback posted',
      );
    } catch (err) {
      options.log.warn({ fn: job.fn, callId: job.callId, err }, 'async callback failed');
    }
  }

  const pump = (): void => {
    while (running < limit && pending.length > 0) {
      const job = pending.shift()!;
      running += 1;
      void run(job).finally(() => {
        running -= 1;
        pump();
        report();
      });
    }
    report();
  };

  return {
    enqueue(job) {
      pending.push(job);
      pump();
    },
    depth: () => pending.length + running,
    idle: () =>
      pending.length + running === 0 ? Promise.resolve() : new Promise((r) => idleWaiters.push(r)),
  };
}
