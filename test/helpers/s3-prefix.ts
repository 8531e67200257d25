// A key prefix of the S3 test bucket for one test, emptied at its teardown: the bucket is shared by every
// test and every run on a developer's server, so what a test stores lives under a prefix no other uses and
// goes when the test ends (S3_PREFIX for code under test; keys below it for the stores the test opens).
import { randomBytes } from 'node:crypto';
import type { ExecutionContext } from 'ava';
import { S3ObjectStore } from '../../shared/archive/index.ts';
import { requireService } from './services.ts';

/** `it/<label>/<random>` (no trailing slash, as S3_PREFIX takes it); its objects are deleted at teardown. */
export function ownS3Prefix(t: ExecutionContext, label: string): string {
  const prefix = `it/${label}/${randomBytes(6).toString('hex')}`;
  t.teardown(async () => {
    const store = new S3ObjectStore({ ...requireService('s3')!, prefix });
    try {
      await store.delete((await store.list('')).map((o) => o.key));
    } catch {
      // best effort: a test that failed on S3 must not fail again in its teardown
    } finally {
      store.destroy();
    }
  });
  return prefix;
}
