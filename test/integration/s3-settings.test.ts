// The s3.* settings, set through the environment as a deployment sets them, reach the object store and
// the status function's health probe: endpoint, bucket, region and credentials on the real S3 gateway;
// path-style addressing in the URLs the client signs.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { openObjectStore, S3ObjectStore } from '../../shared/archive/index.ts';
import { loadConfig } from '../../shared/config/index.ts';
import { checkHealth, statusDepsFromConfig } from '../../shared/status/index.ts';
import { s3Env, serviceTest } from '../helpers/services.ts';

const noSecrets = '/nonexistent-hxp-secrets';

serviceTest('s3')(
  'S3_* from the environment: the store writes and reads the bucket; a wrong secret fails',
  async (t) => {
    const config = loadConfig({ env: s3Env(), secretsDir: noSecrets });
    const store = openObjectStore(config);
    t.true(store instanceof S3ObjectStore, 'a bucket configured means S3, not the local folder');
    t.teardown(() => (store as S3ObjectStore).destroy());
    const key = `it/settings/${randomBytes(6).toString('hex')}.txt`;
    await store.put(key, Buffer.from('hello'), { contentType: 'text/plain' });
    t.teardown(() => store.delete([key]));
    t.is((await store.get(key))?.toString(), 'hello');

    const wrong = loadConfig({
      env: { ...s3Env(), S3_SECRET_ACCESS_KEY: 'not-the-secret' },
      secretsDir: noSecrets,
    });
    const denied = openObjectStore(wrong) as S3ObjectStore;
    t.teardown(() => denied.destroy());
    await t.throwsAsync(denied.get(key));

    const db = { query: async () => ({ rows: [], rowCount: 0 }) } as never;
    const health = await checkHealth(statusDepsFromConfig(config, db).probes);
    t.like(health.body, { checks: { s3: { status: 'healthy' } } });
    const badHealth = await checkHealth(statusDepsFromConfig(wrong, db).probes);
    t.like(badHealth.body, { checks: { s3: { status: 'unhealthy' } } });
  },
);

test('S3_FORCE_PATH_STYLE: path-style URLs by default (MinIO, gateways), virtual-hosted when false', async (t) => {
  const env = {
    S3_ENDPOINT: 'http://s3.example.test:9000',
    S3_BUCKET: 'hxp-batch',
    S3_ACCESS_KEY_ID: 'AKIAEXAMPLE',
    S3_SECRET_ACCESS_KEY: 'secret-example',
  };
  const signed = async (extra: Record<string, string>) => {
    const store = openObjectStore(
      loadConfig({ env: { ...env, ...extra }, secretsDir: noSecrets }),
    ) as S3ObjectStore;
    t.teardown(() => store.destroy());
    return new URL((await store.presign('reports/x.pdf', 60))!);
  };
  const pathStyle = await signed({});
  t.is(pathStyle.host, 's3.example.test:9000');
  t.is(pathStyle.pathname, '/hxp-batch/reports/x.pdf');
  const hosted = await signed({ S3_FORCE_PATH_STYLE: 'false' });
  t.is(hosted.host, 'hxp-batch.s3.example.test:9000');
  t.is(hosted.pathname, '/reports/x.pdf');
});
