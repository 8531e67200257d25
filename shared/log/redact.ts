// Redaction of secrets in log records, in three layers:
//   1. by key: any property whose name says it holds a secret (password, token, secret access key,
//      authorization header, …) at any depth of a logged object or error is replaced;
//   2. by pattern: passwords inside URLs (postgres://user:pw@host), `password=` pairs and Bearer/Basic
//      credentials anywhere in the written line, message and stack included;
//   3. by value: the configured secrets themselves (createLogger(config) passes them in) wherever they occur.
export const CENSOR = '[Redacted]';

const SECRET_KEY_ENDINGS = [
  'password', 'passwd', 'pwd', 'secret', 'secretkey', 'secretaccesskey', 'accesskeyid', 'token', 'apikey',
  'authorization', 'proxyauthorization', 'cookie', 'credentials', 'privatekey',
]; // prettier-ignore

/** Whether a property name denotes a secret: `password`, `smtp_password`, `apiToken`, `Authorization`, … */
export function isSecretKey(name: string): boolean {
  const normalized = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return SECRET_KEY_ENDINGS.some((ending) => normalized.endsWith(ending));
}

/**
 * A copy of `value` with secret-named properties censored, walking plain objects and arrays (other objects
 * are left to their serializers and to the line scrubber).
 */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (depth > 12 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, depth + 1));
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] =
      isSecretKey(key) && item !== undefined && item !== null ? CENSOR : redactDeep(item, depth + 1);
  }
  return copy;
}

const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:@/"]*):[^\s@/"]+@/gi;
const KEY_VALUE_PASSWORD = /\b(password|passwd|pwd)=[^\s&;"]+/gi;
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;

/** A query parameter (`?name=value`, `&…`, `;…`): logged paths and URLs carry their query. */
const QUERY_PARAM = /([?&;])([A-Za-z0-9_.-]+)=([^&;#\s"]*)/g;
/** Presigned URLs' signature parameters (X-Amz-Signature, X-Amz-Credential, Signature, sig). */
const SIGNATURE_PARAM = /^(x-amz-(signature|credential|security-token)|signature|sig)$/i;

/**
 * Censors credentials in free text: URL passwords, `password=…` pairs, Bearer/Basic credentials, and the
 * values of secret-named query parameters (`?token=…`, `api_key=…`, a presigned URL's signature).
 */
export function scrubText(text: string): string {
  return text
    .replace(URL_PASSWORD, `$1:${CENSOR}@`)
    .replace(KEY_VALUE_PASSWORD, `$1=${CENSOR}`)
    .replace(AUTH_SCHEME, `$1 ${CENSOR}`)
    .replace(QUERY_PARAM, (whole, sep: string, name: string, value: string) =>
      value !== '' && (isSecretKey(name) || SIGNATURE_PARAM.test(name)) ? `${sep}${name}=${CENSOR}` : whole,
    );
}

/** Censors each known secret value (as it appears inside a JSON string) and credential patterns. */
export function lineScrubber(secretValues: readonly string[]): (line: string) => string {
  const needles = [
    ...new Set(secretValues.filter((v) => v.length >= 4).map((v) => JSON.stringify(v).slice(1, -1))),
  ]
    // longest first, so a secret that contains another is replaced whole
    .sort((a, b) => b.length - a.length);
  return (line) => {
    let result = line;
    for (const needle of needles) result = result.split(needle).join(CENSOR);
    return scrubText(result);
  };
}
