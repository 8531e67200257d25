// Secrets are compared in constant time, so the time an answer takes does not tell how much of a guess
// was right. Unequal lengths return at once: only the length leaks, as with any HMAC-free comparison.
import { timingSafeEqual } from 'node:crypto';

export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
