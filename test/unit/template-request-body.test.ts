// readBody past MAX_REQUEST_BODY: the rest of the body is read and dropped before the 413, so a sender still
// writing (of-watchdog, which forwards no Content-Length) reads the answer instead of a broken pipe; within
// bounds of bytes and time, past which the 413 goes out at once.
import { once } from 'node:events';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { isBatchError } from '../../shared/errors/index.ts';
import { readBody, type DiscardLimits } from '../../templates/node20-ts/request.ts';

interface Outcome {
  error?: { code: string; message: string; size: unknown };
  /** Whether the request had been read to its end when readBody settled. */
  complete: boolean;
  ms: number;
}

/** A server whose handler only runs readBody(limit, discard) and hands back how it settled. */
async function bodyServer(
  t: { teardown(fn: () => unknown): void },
  limit: number,
  discard: DiscardLimits,
): Promise<{ port: number; outcome: Promise<Outcome> }> {
  let settle!: (o: Outcome) => void;
  const outcome = new Promise<Outcome>((resolve) => (settle = resolve));
  const server = createServer((req: IncomingMessage, res) => {
    const started = Date.now();
    readBody(req, limit, discard).then(
      () => settle({ complete: req.complete, ms: Date.now() - started }),
      (err: unknown) => {
        const error = isBatchError(err)
          ? { code: err.code, message: err.message, size: err.context?.size }
          : { code: 'OTHER', message: String(err), size: undefined };
        settle({ error, complete: req.complete, ms: Date.now() - started });
      },
    );
    void outcome.then(() => res.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise((r) => server.close(r)));
  return { port: (server.address() as AddressInfo).port, outcome };
}

/** Sends chunks (no Content-Length) with an optional pause before the last one. */
function send(port: number, chunks: Buffer[], pauseMs = 0): void {
  const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/' });
  req.on('error', () => {}); // the test server destroys the socket once readBody settled
  void (async () => {
    for (const [i, chunk] of chunks.entries()) {
      if (i === chunks.length - 1 && pauseMs > 0) await sleep(pauseMs);
      if (!req.destroyed) req.write(chunk);
    }
    if (!req.destroyed) req.end();
  })();
}

test('past the limit the rest of the body is read and dropped; the 413 gives its whole size', async (t) => {
  const { port, outcome } = await bodyServer(t, 100, { bytes: 10_000, ms: 5_000 });
  send(port, [Buffer.alloc(80, 1), Buffer.alloc(80, 2), Buffer.alloc(340, 3)]);
  const result = await outcome;
  t.is(result.error?.code, 'REQUEST_TOO_LARGE');
  t.true(result.complete, 'settled once the request had ended');
  t.is(result.error?.size, 500);
  t.regex(result.error!.message, /request body of 500 bytes exceeds the limit of 100 bytes/);
});

test('a body more than `bytes` past the limit is refused at once, before its end', async (t) => {
  const { port, outcome } = await bodyServer(t, 100, { bytes: 1_000, ms: 5_000 });
  send(port, [Buffer.alloc(2_000, 1), Buffer.alloc(2_000, 2)], 2_000);
  const result = await outcome;
  t.is(result.error?.code, 'REQUEST_TOO_LARGE');
  t.false(result.complete);
  t.true(result.ms < 1_500, `answered without waiting for the end (${result.ms} ms)`);
  t.regex(result.error!.message, /request body of \d+\+ bytes/);
});

test('a sender that stalls past the limit is answered after `ms`, not when it resumes', async (t) => {
  const { port, outcome } = await bodyServer(t, 100, { bytes: 10_000, ms: 300 });
  send(port, [Buffer.alloc(200, 1), Buffer.alloc(10, 2)], 3_000);
  const result = await outcome;
  t.is(result.error?.code, 'REQUEST_TOO_LARGE');
  t.false(result.complete);
  t.true(result.ms >= 250 && result.ms < 2_000, `answered after the discard time (${result.ms} ms)`);
});

test('a declared Content-Length past the limit is still read to its end when within bounds', async (t) => {
  const { port, outcome } = await bodyServer(t, 100, { bytes: 10_000, ms: 5_000 });
  const req = request({
    port,
    host: '127.0.0.1',
    method: 'POST',
    path: '/',
    headers: { 'content-length': 300 },
  });
  req.on('error', () => {});
  req.end(Buffer.alloc(300, 1));
  const result = await outcome;
  t.is(result.error?.code, 'REQUEST_TOO_LARGE');
  t.true(result.complete);
  t.is(result.error?.size, 300);
});

test('a body within the limit is returned whole', async (t) => {
  const { port, outcome } = await bodyServer(t, 100, { bytes: 10_000, ms: 5_000 });
  send(port, [Buffer.alloc(60, 1), Buffer.alloc(40, 2)]);
  const result = await outcome;
  t.is(result.error, undefined);
  t.true(result.complete);
});
