// A function that serves several paths (/reports/generate, /reports/<id>/download, …) declares them as a
// table and asks which entry a request is for. Patterns are literal segments and `:name` parameters. An
// unknown path is NOT_FOUND listing the routes; a known path with another method is METHOD_NOT_ALLOWED
// naming the allowed ones. HEAD is answered by a GET route.
import { BatchError } from '../errors/index.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface Route<H> {
  method: HttpMethod;
  /** e.g. '/reports/:id/download' */
  pattern: string;
  handler: H;
}

export interface RouteMatch<H> {
  route: Route<H>;
  /** Decoded values of the pattern's `:name` segments. */
  params: Record<string, string>;
}

function segments(path: string): string[] {
  return path
    .split('?')[0]!
    .split('/')
    .filter((s) => s !== '');
}

function decode(segment: string, path: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BatchError('REQUEST_INVALID', `the path ${path} holds a malformed %-escape`, {
      context: { path: path.slice(0, 200) },
    });
  }
}

function matchPattern(pattern: string, parts: string[], path: string): Record<string, string> | undefined {
  const wanted = segments(pattern);
  if (wanted.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < wanted.length; i++) {
    const w = wanted[i]!;
    const got = parts[i]!;
    if (w.startsWith(':')) params[w.slice(1)] = decode(got, path);
    else if (w !== got) return undefined;
  }
  return params;
}

/** The route for `method path`, or a BatchError (NOT_FOUND / METHOD_NOT_ALLOWED) that says what exists. */
export function matchRoute<H>(routes: readonly Route<H>[], method: string, path: string): RouteMatch<H> {
  const parts = segments(path);
  const wantedMethod = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  const allowed: string[] = [];
  for (const route of routes) {
    const params = matchPattern(route.pattern, parts, path);
    if (!params) continue;
    if (route.method === wantedMethod) return { route, params };
    allowed.push(route.method);
  }
  const shown = `/${parts.join('/')}`.slice(0, 200);
  if (allowed.length > 0) {
    throw new BatchError('METHOD_NOT_ALLOWED', `${method} ${shown}: use ${allowed.join(' or ')}`, {
      context: { method, path: shown, allowed },
    });
  }
  const list = routes.map((r) => `${r.method} ${r.pattern}`).join(', ');
  throw new BatchError('NOT_FOUND', `no route ${method} ${shown}; routes: ${list}`, {
    context: { method, path: shown },
  });
}
