// HTTP/1.1 requests written byte for byte on a socket, so a test can send what fetch refuses to: CR/LF in a
// header, duplicated or huge headers, a raw path with `..` and unencoded bytes, a body that is not UTF-8.
import { connect } from 'node:net';

export interface RawRequest {
  method: string;
  /** The request-target exactly as sent (not encoded here). */
  target: string;
  /** Each entry is one header line as sent: `name: value` (a value may carry CR/LF on purpose). */
  headers: string[];
  body: Buffer;
}

export interface RawAnswer {
  /** 0 when the server closed the socket without an answer. */
  status: number;
  head: string;
  body: string;
}

/** Sends `request` with Connection: close and a correct Content-Length; reads until the server closes. */
export function rawRequest(port: number, request: RawRequest, timeoutMs = 30_000): Promise<RawAnswer> {
  const head =
    `${request.method} ${request.target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n` +
    request.headers.map((h) => `${h}\r\n`).join('') +
    `Content-Length: ${request.body.length}\r\n\r\n`;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(`no answer within ${timeoutMs} ms to ${request.method} ${request.target.slice(0, 120)}`),
      );
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A server may answer (400, 431) and close before the whole request was written: that is an answer.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const headText = split === -1 ? text : text.slice(0, split);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(headText)?.[1] ?? 0);
      const body = split === -1 ? '' : Buffer.from(text.slice(split + 4), 'latin1').toString('utf8');
      resolve({ status, head: headText, body });
    });
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), request.body]));
  });
}

/** VmRSS of a process in bytes (Linux /proc), or undefined when it is gone. */
export async function rssOf(pid: number): Promise<number | undefined> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  const kb = status && /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : undefined;
}
