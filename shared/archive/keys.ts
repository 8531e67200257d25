// Object keys are relative '/'-separated paths. They become file paths in the local store, so anything
// that could climb out of the root or name something odd is refused before it reaches a store.
import { BatchError } from '../errors/index.ts';

const SEGMENT = /^[A-Za-z0-9._=-]+$/;

/** Returns the key unchanged, or throws REQUEST_INVALID naming what is wrong with it. */
export function checkedKey(key: string): string {
  const parts = key.split('/');
  const bad = parts.find((p) => p === '' || p === '.' || p === '..' || !SEGMENT.test(p));
  if (key.length === 0 || key.length > 900 || bad !== undefined) {
    throw new BatchError(
      'REQUEST_INVALID',
      `object key ${JSON.stringify(key.slice(0, 120))} is not a relative path of [A-Za-z0-9._=-] segments`,
      { context: { key: key.slice(0, 200) } },
    );
  }
  return key;
}

/** A prefix for list(): '' (everything) or a checked key, optionally ending in '/'. */
export function checkedPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  checkedKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}
