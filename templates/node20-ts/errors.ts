// Maps whatever a handler threw to an HTTP answer: the status from the error catalogue (shared/errors),
// a JSON body `{error:{code,message}}` that never carries a stack, and the log level (5xx → error,
// 4xx → info, as pino's conventions have it).
import { errorCatalogue, isErrorCode } from '../../shared/errors/index.ts';

export interface ErrorAnswer {
  status: number;
  body: { error: { code: string; message: string; details?: unknown } };
  level: 'error' | 'info';
}

interface ZodLikeIssue {
  path?: PropertyKey[];
  message?: string;
}

export function answerForError(err: unknown): ErrorAnswer {
  const e = (typeof err === 'object' && err !== null ? err : {}) as Record<string, unknown>;
  let status = 500;
  let code = 'INTERNAL';
  let message: string = errorCatalogue.INTERNAL.description;
  let details: unknown;
  if (e.name === 'ZodError' && Array.isArray(e.issues)) {
    // A handler's schema.parse() failing is bad input, not a crash.
    status = errorCatalogue.REQUEST_INVALID.status;
    code = 'REQUEST_INVALID';
    message = 'the request does not match the expected shape; see details';
    details = (e.issues as ZodLikeIssue[]).map((i) => ({
      path: (i.path ?? []).map(String).join('.'),
      message: i.message,
    }));
  } else if (isErrorCode(e.code)) {
    code = e.code;
    status = errorCatalogue[e.code].status;
    // 4xx messages say how to fix the request; 5xx ones may name internals, so the catalogue's text is sent.
    message = status < 500 && typeof e.message === 'string' ? e.message : errorCatalogue[e.code].description;
    const context = e.context as Record<string, unknown> | undefined;
    if (status < 500 && context && Object.keys(context).length > 0) details = context;
  }
  const body: ErrorAnswer['body'] = { error: { code, message } };
  if (details !== undefined) body.error.details = details;
  return { status, body, level: status >= 500 ? 'error' : 'info' };
}
