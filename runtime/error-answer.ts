// The runtime's own error answers (gateway, proxy, async queue, original API) in the shape the template
// server answers with, `{"error":{"code","message"}}` and the catalogue's status. The runtime writes its
// messages itself (function name, limit, cause), so they are sent as they are, 5xx included.
import type { ServerResponse } from 'node:http';
import { isBatchError } from '../shared/errors/index.ts';
import { answerForError } from '../templates/node20-ts/errors.ts';

export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export function errorAnswer(err: unknown): ErrorAnswer {
  const { status, body } = isBatchError(err)
    ? { status: err.status, body: { error: { code: err.code, message: err.message } } }
    : answerForError(err);
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) };
}

/** Answers `err` on `res` unless an answer has begun (then the connection is cut); returns the status. */
export function sendError(res: ServerResponse, err: unknown, headers: Record<string, string> = {}): number {
  const answer = errorAnswer(err);
  if (res.headersSent) {
    res.destroy();
    return answer.status;
  }
  res.writeHead(answer.status, {
    ...answer.headers,
    ...headers,
    'content-length': String(answer.body.length),
  });
  res.end(answer.body);
  return answer.status;
}
