// The chunks of a COPY … TO STDOUT, for a consumer that may stop early. While a COPY's data is unread the
// connection stays in COPY mode: a stream that is destroyed or simply abandoned (as a for-await loop that
// throws does with it) leaves the connection waiting, and the transaction's ROLLBACK after it never
// completes. So when the consumer stops before the end, the rest is read and dropped first, and the
// connection is free for the ROLLBACK that follows.
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';

export async function* copyOutChunks(client: PoolClient, sql: string): AsyncGenerator<Buffer> {
  const stream: Readable = client.query(copyTo(sql));
  let ended = false;
  try {
    for await (const chunk of stream.iterator({ destroyOnReturn: false })) yield chunk as Buffer;
    ended = true;
  } finally {
    if (!ended && !stream.destroyed) {
      stream.resume();
      // the stream's own error, if any, is the server's answer to the COPY: the consumer's failure is the one
      // that propagates
      await finished(stream).catch(() => undefined);
    }
  }
}
