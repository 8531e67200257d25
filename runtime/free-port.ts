import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A port free on 127.0.0.1 right now (the OS picks it; a racing process could still take it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
