// The request-target of an incoming request as a URL. `new URL(req.url, base)` throws on targets a client
// may send on purpose: `//host:port/…` is read as a network path with a bad host, and its TypeError thrown in
// a server callback ends the process. A target that starts with '/' is always a path here.

/** The URL of `raw` (origin-form or absolute-form), or undefined when it cannot be one. */
export function requestTarget(raw: string | undefined): URL | undefined {
  const target = raw ?? '/';
  try {
    return target.startsWith('/') ? new URL(`http://request.local${target}`) : new URL(target);
  } catch {
    return undefined;
  }
}

/** The 400 answer's message for a target requestTarget refused. */
export function badTargetMessage(raw: string | undefined): string {
  return `the request target ${JSON.stringify(String(raw).slice(0, 200))} is not a path; send /<path>[?query]`;
}
