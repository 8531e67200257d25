// Guards the embedded gate against `COPY … FROM STDIN`. pglite-socket does not speak the COPY
// sub-protocol: a client that tries it leaves PGlite (which runs inside the runtime process) spinning,
// and every function with it. The guard reads the client → server stream message by message, lets
// everything through except a simple-protocol Query that starts a COPY FROM STDIN, and reports that
// one so the gate can answer it with an error (SQLSTATE 0A000) instead of forwarding it.
const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;
const INSPECT_BYTES = 2048;
const COPY_FROM_STDIN = /^\s*copy\b[^;]*?\bfrom\s+stdin\b/i;

export interface GuardOutput {
  forward: Buffer[];
  /** Number of COPY FROM STDIN queries dropped in this chunk (answer each with an error). */
  rejected: number;
}

export class CopyGuard {
  private startup = true;
  private header: number[] = [];
  private remaining = 0;
  private mode: 'pass' | 'inspect' | 'drop' = 'pass';
  private inspect: Buffer[] = [];
  private inspectLen = 0;
  private inspectNeed = 0;
  private heldHeader: Buffer = Buffer.alloc(0);

  feed(chunk: Buffer): GuardOutput {
    const out: GuardOutput = { forward: [], rejected: 0 };
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - i);
        const part = chunk.subarray(i, i + n);
        i += n;
        this.remaining -= n;
        if (this.mode === 'pass') out.forward.push(part);
        else if (this.mode === 'inspect') {
          this.inspect.push(part);
          this.inspectLen += n;
          if (this.inspectLen >= this.inspectNeed) this.decide(out);
        }
        continue;
      }
      this.header.push(chunk[i]!);
      i += 1;
      const size = this.startup ? 4 : 5;
      if (this.header.length < size) continue;
      const head = Buffer.from(this.header);
      this.header = [];
      const len = head.readUInt32BE(size - 4);
      const body = Math.max(0, len - 4);
      if (this.startup) {
        // untyped: SSLRequest/GSSENCRequest (answered with one byte) then the StartupMessage
        const code = i + 4 <= chunk.length ? chunk.readUInt32BE(i) : undefined;
        if (code !== SSL_REQUEST && code !== GSS_REQUEST) this.startup = false;
        out.forward.push(head);
        this.mode = 'pass';
        this.remaining = body;
      } else if (head[0] === 0x51 /* Q */ && body > 0) {
        this.mode = 'inspect';
        this.heldHeader = head;
        this.inspect = [];
        this.inspectLen = 0;
        this.inspectNeed = Math.min(body, INSPECT_BYTES);
        this.remaining = body;
      } else {
        out.forward.push(head);
        this.mode = 'pass';
        this.remaining = body;
      }
    }
    return out;
  }

  private decide(out: GuardOutput): void {
    const text = Buffer.concat(this.inspect).toString('utf8');
    if (COPY_FROM_STDIN.test(text)) {
      this.mode = 'drop';
      out.rejected += 1;
    } else {
      out.forward.push(this.heldHeader, ...this.inspect);
      this.mode = 'pass';
    }
    this.inspect = [];
    this.inspectLen = 0;
  }
}

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

/** A PostgreSQL ErrorResponse message ('E'). */
export function errorResponse(severity: 'ERROR' | 'FATAL', sqlstate: string, text: string): Buffer {
  const field = (code: string, value: string): Buffer => Buffer.from(`${code}${value}\0`, 'utf8');
  return message(
    'E',
    Buffer.concat([
      field('S', severity),
      field('V', severity),
      field('C', sqlstate),
      field('M', text),
      Buffer.from([0]),
    ]),
  );
}

/** ErrorResponse + ReadyForQuery, as the server would answer a refused query. */
export function copyRefusal(inTransaction: boolean): Buffer {
  const error = errorResponse(
    'ERROR',
    '0A000',
    'COPY FROM STDIN is not supported by the embedded database (pglite-socket); open it with ' +
      'gatedDatabase() from shared/db/gated.ts (embedded: true) so writers use INSERT',
  );
  return Buffer.concat([error, message('Z', Buffer.from(inTransaction ? 'E' : 'I', 'latin1'))]);
}
